use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tally_attach::PdfReader;

use tally_keychain::ApiKeyStore;
use tally_openai::{Adaptation, Api, Capabilities, ClientConfig, OpenAiClient};
use tally_spend::TimeZone;
use tally_store::Store;

use crate::api::{
    AboutView, KeyStatusView, KeyTestResult, ModelsView, SettingsUpdate, SettingsView,
};
use crate::approvals::Approvals;
use crate::keys::Keys;
use crate::mcp_hub::McpHub;
use crate::meter::Meter;
use crate::notices::{NoticeSink, Notices};
use crate::replies::ActiveReplies;
use crate::uploads::Uploads;
use crate::{CoreError, now_millis};
use crate::{models, settings};

/// How the engine is set up; the shell fills it from the environment. Its `Debug` shows
/// the key only as redacted.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Folder of the database (`TALLY_DATA_DIR`, or the OS app-data folder).
    pub data_dir: PathBuf,
    /// `TALLY_API_BASE`: overrides the API address setting for this run.
    pub api_base_override: Option<String>,
    /// `OPENAI_API_KEY`: used when no key is stored, for this run only.
    pub env_api_key: Option<secrecy::SecretString>,
    /// The keychain service name (tests use their own).
    pub keychain_service: String,
    /// How often streamed text is saved (at most 500 ms by design).
    pub flush_interval: Duration,
    /// The user's time zone, in which budget months begin (the system's by default).
    pub time_zone: TimeZone,
    /// Where the engine reads the time (tests move it across months).
    pub clock: Clock,
    /// The program that reads a PDF's text apart from the app (`None`: PDFs are refused).
    pub pdf_reader: Option<PdfReader>,
    /// How long the sync storage may take to answer (a minute a request by default; tests
    /// of a stalled server shorten it).
    pub sync_time_limits: tally_sync::TimeLimits,
}

/// The current time as UTC epoch milliseconds.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(now_millis))
    }

    pub fn from_fn(now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    pub fn now(&self) -> i64 {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

impl EngineConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            api_base_override: None,
            env_api_key: None,
            keychain_service: tally_keychain::SERVICE.to_string(),
            flush_interval: Duration::from_millis(250),
            time_zone: TimeZone::system(),
            clock: Clock::system(),
            pdf_reader: None,
            sync_time_limits: tally_sync::TimeLimits::default(),
        }
    }

    /// Reads `TALLY_API_BASE`, and takes `key` as the environment's `OPENAI_API_KEY` (see
    /// [`take_env_api_key`], which must run before any thread starts).
    pub fn with_env(mut self, key: Option<secrecy::SecretString>) -> Self {
        self.api_base_override = std::env::var("TALLY_API_BASE")
            .ok()
            .filter(|v| !v.trim().is_empty());
        self.env_api_key = key;
        self
    }
}

/// Reads `OPENAI_API_KEY` and removes it from this process's environment, so that no
/// child process (the browser a link opens, a tool) inherits the key.
///
/// # Safety
///
/// Changing the environment races with any other thread reading it: call this at the
/// start of `main`, before any thread is started.
#[allow(
    unsafe_code,
    reason = "removing a variable is unsound while another thread reads the environment"
)]
pub unsafe fn take_env_api_key() -> Option<secrecy::SecretString> {
    let value = std::env::var_os("OPENAI_API_KEY")?;
    // SAFETY: the caller guarantees no other thread runs yet.
    unsafe { std::env::remove_var("OPENAI_API_KEY") };
    let value = value.into_string().ok()?;
    (!value.trim().is_empty()).then(|| secrecy::SecretString::from(value))
}

/// The engine. One per app; cheap to share behind an `Arc`.
pub struct Engine {
    pub(crate) store: Mutex<Store>,
    pub(crate) keys: Keys,
    pub(crate) api_base_override: Option<String>,
    /// Prices, token counts, and what the requests in flight may cost.
    pub(crate) meter: Meter,
    pub(crate) flush_interval: Duration,
    pub(crate) time_zone: TimeZone,
    clock: Clock,
    /// The program that reads a PDF's text (see [`EngineConfig::pdf_reader`]).
    pub(crate) pdf_reader: Option<PdfReader>,
    pub(crate) sync_time_limits: tally_sync::TimeLimits,
    /// The data folder (the database, its backups).
    pub(crate) data_dir: PathBuf,
    notices: Notices,
    /// The MCP servers running (started from Settings' rows, stopped when Tally quits).
    pub(crate) mcp: McpHub,
    /// Replies being written, by conversation: cancelling the token stops one.
    pub(crate) replies: ActiveReplies,
    /// Tool calls waiting for the user's word.
    pub(crate) approvals: Approvals,
    /// The client for the last API address used (see `client_at`).
    client: Mutex<Option<OpenAiClient>>,
    /// Which hosts the key may go to, and who is asked about the others.
    clearance: crate::clearance::Clearance,
    /// Files being sent for import, piece by piece.
    pub(crate) uploads: Uploads,
    /// Pictures scaled to the size their model reads them.
    pub(crate) sent_pictures: crate::sent_pictures::SentPictures,
    /// Sync: the storage opened, the sync running, how the last one ended.
    pub(crate) sync: crate::sync_state::SyncState,
    /// Work that writes across several steps (a reply from its first read to its ledger
    /// row, a title, an import) holds this shared; a restore holds it alone, so no write
    /// meant for the old data can land in the restored one.
    writers: Arc<tokio::sync::RwLock<()>>,
}

/// Held by work that writes over several steps; a restore waits for none and refuses
/// while any is held.
pub(crate) type Writing = tokio::sync::OwnedRwLockReadGuard<()>;

impl Engine {
    /// Opens the database (migrating it, or replacing it from the newest good backup when
    /// it is damaged) and marks replies a crash left unfinished as interrupted.
    pub fn open(config: EngineConfig) -> Result<Arc<Self>, CoreError> {
        // What an import left there when Tally ended in its middle (one Tally runs per data
        // folder, so none is under way).
        crate::uploads::clear_imports_folder(&config.data_dir);
        match Self::open_once(config.clone()) {
            // Damage the first reads ran into: repaired from a backup, then opened again.
            Err(CoreError::Storage(e)) if e.is_damage() => {
                tally_store::mark_needs_repair(&config.data_dir, &e.to_string())?;
                Self::open_once(config)
            }
            Err(CoreError::Damaged(found)) => {
                tally_store::mark_needs_repair(&config.data_dir, &found)?;
                Self::open_once(config)
            }
            other => other,
        }
    }

    fn open_once(config: EngineConfig) -> Result<Arc<Self>, CoreError> {
        let (store, recovery) = Store::open_or_recover(&config.data_dir, config.clock.now())?;
        let recovered = store.mark_unfinished_replies_interrupted(config.clock.now())?;
        if recovered > 0 {
            tracing::info!(
                recovered,
                "replies left unfinished by the last run are now interrupted"
            );
        }
        let notices = Notices::default();
        let engine = Arc::new(Self {
            data_dir: config.data_dir,
            store: Mutex::new(store),
            keys: Keys::new(
                ApiKeyStore::new(&config.keychain_service),
                config.env_api_key,
            ),
            api_base_override: config.api_base_override,
            meter: Meter::default(),
            flush_interval: config.flush_interval.min(Duration::from_millis(500)),
            time_zone: config.time_zone,
            clock: config.clock,
            pdf_reader: config.pdf_reader,
            sync_time_limits: config.sync_time_limits,
            mcp: McpHub::new(notices.clone()),
            notices,
            replies: ActiveReplies::default(),
            approvals: Approvals::default(),
            uploads: Uploads::default(),
            sent_pictures: Default::default(),
            sync: Default::default(),
            client: Mutex::default(),
            clearance: Default::default(),
            writers: Arc::default(),
        });
        if let Some(recovery) = recovery {
            engine.remember_recovery(&recovery)?;
        }
        engine.purge_old_trash()?;
        engine.load_prices()?;
        Ok(engine)
    }

    /// A share of the writers' lock, for work that writes over several steps; refused
    /// while a backup is being restored.
    pub(crate) fn writing(&self) -> Result<Writing, CoreError> {
        Arc::clone(&self.writers).try_read_owned().map_err(|_| {
            CoreError::Busy("Tally is restoring a backup. Try again in a moment.".into())
        })
    }

    /// The writers' lock alone, for a restore; refused while anything is being written.
    pub(crate) fn writing_alone(
        &self,
    ) -> Result<tokio::sync::OwnedRwLockWriteGuard<()>, CoreError> {
        Arc::clone(&self.writers).try_write_owned().map_err(|_| {
            CoreError::Busy(
                "Wait for the reply, import or title being written to finish (or stop it), then restore the backup."
                    .into(),
            )
        })
    }

    /// Now, as UTC epoch milliseconds, from the configured clock.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves SQLite consistent (every write is one
        // statement or one transaction), so a poisoned lock is safe to use.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ----- key -----

    pub fn key_status(&self) -> KeyStatusView {
        self.keys.status()
    }

    /// Stores a pasted key in the keychain, trimmed and checked as the API address in use takes keys
    /// (OpenAI's own shape for OpenAI, anything header-safe for another server).
    pub fn key_set(&self, pasted: &str) -> Result<KeyStatusView, CoreError> {
        self.keys.store(pasted, self.key_format()?)?;
        // Another key may reach other models: the pickers offer the catalog's until it is tested.
        settings::KEY_MODELS.remove(&self.store())?;
        Ok(self.keys.status())
    }

    /// Which keys the API address in use takes: OpenAI's own shape for OpenAI, anything
    /// header-safe for another server (a gateway's or a local model's key is its business).
    fn key_format(&self) -> Result<tally_keychain::KeyFormat, CoreError> {
        Ok(key_format_for(&self.api_base()?))
    }

    /// Sends app-wide notices to `sink` from now on.
    pub fn on_notice(&self, sink: impl NoticeSink) {
        self.notices.set(sink);
    }

    pub(crate) fn notify(&self, notice: crate::Notice) {
        self.notices.send(notice);
    }

    /// Asks `asker` from now on before the key first goes to a host other than OpenAI's
    /// or this computer's (the shell shows a native dialog).
    pub fn on_key_consent(&self, asker: impl crate::KeyConsent) {
        self.clearance.set_asker(Arc::new(asker));
    }

    /// The key to send, and the address it was cleared for: the API address in use, when
    /// it takes the key (OpenAI, this computer, or a host the person said yes to; this may
    /// ask them, so it blocks: call it on a blocking thread).
    pub(crate) fn key_to_send(&self) -> Result<KeyFor, CoreError> {
        let base = self.api_base()?;
        // A base no request can use is refused as such, before anyone is asked about it.
        self.client_at(&base)?;
        let key = match self.keys.resolve(key_format_for(&base)) {
            Ok(key) => key,
            // A server on this computer may need no key (a local model): it gets none, and
            // one that asks for a key after all says so (`KeyFor::refusal`).
            Err(CoreError::MissingApiKey) if crate::clearance::is_on_this_computer(&base) => {
                return Ok(KeyFor { key: None, base });
            }
            Err(e) => return Err(e),
        };
        self.clearance.check(&base, &self.store)?;
        Ok(KeyFor {
            key: Some(key),
            base,
        })
    }

    pub fn key_delete(&self) -> Result<KeyStatusView, CoreError> {
        self.keys.delete()?;
        settings::KEY_MODELS.remove(&self.store())?;
        Ok(self.keys.status())
    }

    /// Tries the key in use with `GET /models`.
    pub async fn key_test(self: &Arc<Self>) -> Result<KeyTestResult, CoreError> {
        let key = self.key_off_the_runtime().await?;
        let client = self.client_for(&key, None)?;
        let list = client
            .list_models(key.secret())
            .await
            .map_err(|e| key.refusal(e))?;
        let mut models: Vec<String> = list
            .data
            .into_iter()
            .map(|m| m.id)
            .filter(|id| self.meter.is_chat_model(id))
            .collect();
        models.sort();
        self.remember_key_models(&models)?;
        Ok(KeyTestResult { models })
    }

    /// The models to offer in a picker: the chat models the key listed when it was last
    /// tested, or the catalog's when it never was.
    pub fn models_list(&self) -> Result<ModelsView, CoreError> {
        let listed = settings::KEY_MODELS.get(&self.store())?;
        // The model new chats start with is described even if the key's list lacks it.
        let in_use = [self.default_model()?];
        Ok(models::models_view(&self.meter.catalog(), listed, &in_use))
    }

    /// Keeps the chat models `GET /models` listed for the key, for the pickers.
    fn remember_key_models(&self, models: &[String]) -> Result<(), CoreError> {
        settings::KEY_MODELS.set(&self.store(), &models.to_vec())
    }

    // ----- settings -----

    pub(crate) fn api_base(&self) -> Result<String, CoreError> {
        if let Some(base) = &self.api_base_override {
            return Ok(base.clone());
        }
        Ok(settings::API_BASE
            .get(&self.store())?
            .unwrap_or_else(|| ClientConfig::OPENAI.to_string()))
    }

    /// The client for `base`. One is kept and reused while the address stays the same,
    /// so messages share its connection pool and TLS sessions.
    fn client_at(&self, base: &str) -> Result<OpenAiClient, CoreError> {
        let mut cached = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = cached.as_ref()
            && client.base_url() == base.trim_end_matches('/')
        {
            return Ok(client.clone());
        }
        let client = OpenAiClient::new(ClientConfig::new(base))?;
        *cached = Some(client.clone());
        Ok(client)
    }

    /// A client for the address `key` was cleared for (not the address in use now, which
    /// may have changed since), with the timeouts `model` needs (reasoning models, as the
    /// catalog says, think silently first).
    pub(crate) fn client_for(
        &self,
        key: &KeyFor,
        model: Option<&str>,
    ) -> Result<OpenAiClient, CoreError> {
        let client = self.client_at(&key.base)?;
        Ok(match model {
            Some(model) => {
                let traits = self.meter.traits(model);
                let client = client.for_reasoning(traits.reasoning);
                if traits.thinks_for_minutes {
                    client.for_long_thinking()
                } else {
                    client
                }
            }
            None => client,
        })
    }

    pub(crate) fn default_model(&self) -> Result<String, CoreError> {
        default_model_in(&self.store())
    }

    /// What "About Tally" shows; `version` is the shell's (the one its packages carry).
    pub fn about(&self, version: &str) -> AboutView {
        AboutView {
            version: version.to_string(),
            prices_checked_on: self.meter.catalog().checked_on,
            data_dir: self.data_dir.display().to_string(),
        }
    }

    /// The data folder, for the shell to show in the file manager.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub fn settings_get(&self) -> Result<SettingsView, CoreError> {
        let onboarded = settings::ONBOARDED.get(&self.store())?.unwrap_or(false);
        Ok(SettingsView {
            default_model: self.default_model()?,
            api_base: self.api_base()?,
            api_base_from_env: self.api_base_override.is_some(),
            onboarded,
            chat_defaults: self.chat_defaults()?,
            auto_titles: self.auto_titles()?,
            update_checks: settings::UPDATE_CHECKS.get(&self.store())?.unwrap_or(false),
        })
    }

    pub fn settings_set(&self, update: SettingsUpdate) -> Result<SettingsView, CoreError> {
        if let Some(model) = &update.default_model {
            let model = models::checked_model(model)?;
            settings::DEFAULT_MODEL.set(&self.store(), &model)?;
        }
        if let Some(defaults) = update.chat_defaults {
            let defaults = self.set_chat_defaults(defaults)?;
            settings::DEFAULT_MODEL.set(&self.store(), &defaults.model)?;
        }
        if let Some(base) = &update.api_base {
            let base = base.trim();
            OpenAiClient::new(ClientConfig::new(base))?;
            settings::API_BASE.set(&self.store(), &base.to_string())?;
        }
        if let Some(on) = update.auto_titles {
            self.set_auto_titles(on)?;
        }
        if let Some(onboarded) = update.onboarded {
            settings::ONBOARDED.set(&self.store(), &onboarded)?;
        }
        if let Some(on) = update.update_checks {
            settings::UPDATE_CHECKS.set(&self.store(), &on)?;
        }
        self.settings_get()
    }

    /// Whether the quiet daily check for updates is due now: the person agreed to it and
    /// the last one was a day ago or more (or never made). When due, now is recorded as the
    /// last check, so the shell asks at most once a day however often it calls this.
    pub fn take_daily_update_check(&self) -> Result<bool, CoreError> {
        const DAY_MS: i64 = 86_400_000;
        let store = self.store();
        if !settings::UPDATE_CHECKS.get(&store)?.unwrap_or(false) {
            return Ok(false);
        }
        let now = self.now();
        let due = match settings::LAST_UPDATE_CHECK.get(&store)? {
            // A last check in the future means the clock was set back: it is not to be
            // trusted to hold checks off.
            Some(last) => now - last >= DAY_MS || last > now,
            None => true,
        };
        if due {
            settings::LAST_UPDATE_CHECK.set(&store, &now)?;
        }
        Ok(due)
    }

    /// How `model` takes optional parameters: as the catalog says it reasons or not,
    /// corrected by what the API taught Tally earlier (remembered per model).
    pub fn capabilities(&self, model: &str) -> Result<Capabilities, CoreError> {
        Ok(settings::learned_capabilities(model)
            .get(&self.store())?
            .unwrap_or_else(|| Capabilities::for_reasoning(self.meter.traits(model).reasoning)))
    }

    /// The API `model` is asked on: the one the server taught Tally it answers on
    /// (remembered per model), else the catalog's preferred endpoint for it; Chat
    /// Completions for a model the catalog does not know, which every server speaks.
    pub fn api_for(&self, model: &str) -> Result<Api, CoreError> {
        if let Some(api) = settings::learned_api(model).get(&self.store())? {
            return Ok(api);
        }
        Ok(match self.meter.traits(model).endpoints.first() {
            Some(tally_spend::Endpoint::Responses) => Api::Responses,
            _ => Api::ChatCompletions,
        })
    }

    /// The API a reply is asked on: with web search, the Responses API (the only one with
    /// the tool) for a model served there; otherwise `usual`, its [`Engine::api_for`].
    pub(crate) fn api_for_reply(&self, model: &str, usual: Api, web_search: bool) -> Api {
        let served = || {
            self.meter
                .traits(model)
                .endpoints
                .contains(&tally_spend::Endpoint::Responses)
        };
        if web_search && served() {
            Api::Responses
        } else {
            usual
        }
    }

    /// Remembers that `model` answers only on `api`.
    pub(crate) fn learn_api(&self, model: &str, api: Api) -> Result<(), CoreError> {
        settings::learned_api(model).set(&self.store(), &api)
    }

    /// Remembers that the API refused a parameter of `model`.
    pub fn learn(&self, model: &str, adaptation: Adaptation) -> Result<Capabilities, CoreError> {
        let learned = self.capabilities(model)?.learn(adaptation);
        settings::learned_capabilities(model).set(&self.store(), &learned)?;
        Ok(learned)
    }

    /// The newest `limit` HTTP attempts, newest first (the usage page will show them).
    pub fn request_log(&self, limit: u32) -> Result<Vec<tally_store::RequestLogRow>, CoreError> {
        Ok(self.store().request_log(limit)?)
    }

    /// Stops the reply being written in `conversation_id`. Returns whether one was.
    pub fn stop(&self, conversation_id: i64) -> bool {
        self.replies.stop(conversation_id)
    }
}

/// The key, and the API address it was cleared for; no key for a server on this computer
/// when none is stored. No `Debug`: it holds the key.
pub(crate) struct KeyFor {
    key: Option<secrecy::SecretString>,
    base: String,
}

impl KeyFor {
    pub(crate) fn secret(&self) -> Option<&secrecy::SecretString> {
        self.key.as_ref()
    }

    /// `error` as the person should read it: a server sent no key that refuses the
    /// request asks for one (Settings), rather than "did not accept this key".
    pub(crate) fn refusal(&self, error: tally_openai::OpenAiError) -> CoreError {
        if self.key.is_none() && error.kind() == tally_openai::ErrorKind::InvalidKey {
            let host = tally_openai::parse_base_url(&self.base)
                .and_then(|url| url.host_str().map(str::to_string))
                .unwrap_or_else(|| self.base.clone());
            return CoreError::KeyAskedFor(host);
        }
        error.into()
    }
}

/// Which keys `base` takes: OpenAI's own shape for OpenAI, anything header-safe elsewhere.
fn key_format_for(base: &str) -> tally_keychain::KeyFormat {
    if crate::clearance::is_openai_base(base) {
        tally_keychain::KeyFormat::OpenAi
    } else {
        tally_keychain::KeyFormat::Other
    }
}

/// The model for new conversations, read from `store` (for callers holding the lock).
pub(crate) fn default_model_in(store: &Store) -> Result<String, CoreError> {
    Ok(settings::DEFAULT_MODEL
        .get(store)?
        .unwrap_or_else(|| models::DEFAULT_MODEL.to_string()))
}

#[cfg(test)]
mod tests {
    use tally_openai::{Adaptation, Capabilities};

    use crate::{Engine, EngineConfig};

    #[test]
    fn learned_capabilities_are_remembered_per_model() {
        let dir = tempfile::tempdir().unwrap();
        let open = || Engine::open(EngineConfig::new(dir.path())).unwrap();
        let engine = open();
        assert_eq!(
            engine.capabilities("my-model").unwrap(),
            Capabilities::for_reasoning(false)
        );
        let learned = engine
            .learn("my-model", Adaptation::UseMaxCompletionTokens)
            .unwrap();
        assert!(learned.max_completion_tokens && learned.sampling);
        engine.learn("my-model", Adaptation::NoSampling).unwrap();
        drop(engine);
        let engine = open();
        let remembered = engine.capabilities("my-model").unwrap();
        assert!(remembered.max_completion_tokens && !remembered.sampling);
        assert_eq!(
            engine.capabilities("gpt-4o").unwrap(),
            Capabilities::for_reasoning(false)
        );
        assert_eq!(
            engine.capabilities("gpt-5.4-mini").unwrap(),
            Capabilities::for_reasoning(true)
        );
    }

    /// Restore takes the writers' lock alone: while a reply, a title or an import holds a
    /// share, it is refused (and changes nothing); while it runs, they are refused.
    #[test]
    fn restore_and_multi_step_writers_exclude_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(EngineConfig::new(dir.path())).unwrap();
        let backup = engine.backup_now().unwrap();
        let writing = engine.writing().unwrap();
        let refused = engine.backup_restore(&backup.name).unwrap_err();
        assert_eq!(refused.code(), crate::api::ErrorCode::Busy, "{refused}");
        assert!(
            engine.backups_list().unwrap().len() == 1,
            "nothing was backed up"
        );
        drop(writing);
        let alone = engine.writing_alone().unwrap();
        let refused = engine.writing().unwrap_err();
        assert_eq!(refused.code(), crate::api::ErrorCode::Busy);
        let import = engine.import_text("{}", |_| {}).unwrap_err();
        assert_eq!(import.code(), crate::api::ErrorCode::Busy, "{import}");
        drop(alone);
        engine.backup_restore(&backup.name).unwrap();
    }
}
