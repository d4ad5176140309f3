//! How a local server's program is started: found on the user's login-shell PATH (a
//! program launched from a desktop session does not get the shell's PATH, so `npx` and
//! `uvx` would not be found), with a small inherited environment, never Tally's secrets.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ToolsError;

/// The variables a started server inherits from Tally's environment, as the official MCP
/// SDKs do (`getDefaultEnvironment`), with the locale and the XDG folders: nothing else,
/// so nothing of Tally's (a key someone exported, a token) reaches the program unasked.
const INHERITED: &[&str] = &[
    "HOME",
    "LOGNAME",
    "USER",
    "SHELL",
    "TERM",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
];

/// How long the login shell may take to tell its PATH.
const SHELL_TIMEOUT: Duration = Duration::from_secs(5);
const START_MARK: &str = "__TALLY_PATH_START__";
const END_MARK: &str = "__TALLY_PATH_END__";

/// The environment servers are started in.
#[derive(Clone, Debug)]
pub struct LaunchEnv {
    /// The folders searched for a program, in order.
    path: Vec<PathBuf>,
    inherited: BTreeMap<OsString, OsString>,
}

impl LaunchEnv {
    /// Tally's own environment, with the PATH of the user's login shell first.
    pub async fn from_session() -> Self {
        let shell = std::env::var_os("SHELL").unwrap_or_else(|| "/bin/sh".into());
        let login_path = login_shell_path(Path::new(&shell)).await;
        Self::new(std::env::vars_os(), login_path)
    }

    /// From an environment's variables and, when the login shell told it, its PATH.
    pub fn new(
        vars: impl IntoIterator<Item = (OsString, OsString)>,
        login_path: Option<OsString>,
    ) -> Self {
        let vars: BTreeMap<OsString, OsString> = vars.into_iter().collect();
        let home = vars.get(OsStr::new("HOME")).map(PathBuf::from);
        let mut path: Vec<PathBuf> = Vec::new();
        let lists = [login_path.as_ref(), vars.get(OsStr::new("PATH"))];
        for list in lists.into_iter().flatten() {
            path.extend(std::env::split_paths(list));
        }
        // Where installers put npx, uvx and friends, for a shell whose profile does not say.
        if let Some(home) = &home {
            for folder in [".local/bin", ".cargo/bin", ".volta/bin", ".bun/bin"] {
                path.push(home.join(folder));
            }
        }
        for folder in ["/usr/local/bin", "/opt/homebrew/bin", "/usr/bin", "/bin"] {
            path.push(folder.into());
        }
        let mut seen = std::collections::HashSet::new();
        path.retain(|folder| folder.is_absolute() && seen.insert(folder.clone()));
        let inherited = vars
            .into_iter()
            .filter(|(name, _)| INHERITED.iter().any(|kept| OsStr::new(kept) == name))
            .collect();
        Self { path, inherited }
    }

    /// The program `command` names: a path as given, else the first match on the PATH.
    pub fn resolve(&self, command: &str) -> Result<PathBuf, ToolsError> {
        if command.contains('/') {
            let path = PathBuf::from(command);
            return if is_executable(&path) {
                Ok(path)
            } else {
                Err(ToolsError::ProgramMissing(format!(
                    "There is no program at {command}, or it cannot be run."
                )))
            };
        }
        self.path
            .iter()
            .map(|folder| folder.join(command))
            .find(|candidate| is_executable(candidate))
            .ok_or_else(|| {
                let hint = match command {
                    "npx" | "node" | "npm" => " It comes with Node.js (nodejs.org).",
                    "uvx" | "uv" => " It comes with uv (docs.astral.sh/uv).",
                    "docker" => " It comes with Docker.",
                    _ => "",
                };
                ProgramMissing::message(command, hint)
            })
    }

    /// The command that starts `program`: the inherited variables, the PATH searched, then
    /// the server's own variables (which win).
    pub(crate) fn command(
        &self,
        program: &Path,
        args: &[String],
        env: &BTreeMap<String, String>,
        cwd: Option<&str>,
    ) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(program);
        command.args(args).env_clear().envs(&self.inherited);
        if let Ok(path) = std::env::join_paths(&self.path) {
            command.env("PATH", path);
        }
        command.envs(env);
        match cwd {
            Some(folder) => {
                command.current_dir(folder);
            }
            None => {
                if let Some(home) = self.inherited.get(OsStr::new("HOME")) {
                    command.current_dir(home);
                }
            }
        }
        command
    }
}

struct ProgramMissing;

impl ProgramMissing {
    fn message(command: &str, hint: &str) -> ToolsError {
        ToolsError::ProgramMissing(format!(
            "The program “{}” was not found on this computer (Tally looked where your login \
             shell looks).{hint} If it is installed elsewhere, give its full path.",
            command.chars().take(100).collect::<String>()
        ))
    }
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// The PATH of an interactive login shell (where nvm, pyenv and Homebrew add theirs), or
/// None when the shell does not answer in time.
async fn login_shell_path(shell: &Path) -> Option<OsString> {
    let script = format!("printf '{START_MARK}%s{END_MARK}' \"$PATH\"");
    let output = tokio::process::Command::new(shell)
        .args(["-l", "-i", "-c", &script])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SHELL_TIMEOUT, output)
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let start = text.rfind(START_MARK)? + START_MARK.len();
    let end = start + text[start..].find(END_MARK)?;
    Some(text[start..end].into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    #[test]
    fn the_login_shells_path_comes_first_then_the_sessions_then_the_usual_folders() {
        let env = LaunchEnv::new(
            vars(&[("PATH", "/usr/bin:/session/bin"), ("HOME", "/home/ann")]),
            Some("/home/ann/.nvm/bin:/usr/bin".into()),
        );
        let shown: Vec<_> = env.path.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            &shown[..4],
            [
                "/home/ann/.nvm/bin",
                "/usr/bin",
                "/session/bin",
                "/home/ann/.local/bin"
            ]
        );
        assert_eq!(
            shown.iter().filter(|p| *p == "/usr/bin").count(),
            1,
            "{shown:?}"
        );
    }

    #[test]
    fn only_the_allowed_variables_are_inherited() {
        let env = LaunchEnv::new(
            vars(&[
                ("HOME", "/home/ann"),
                ("LANG", "fr_FR.UTF-8"),
                ("OPENAI_API_KEY", "sk-secret"),
                ("TALLY_API_BASE", "http://127.0.0.1:1"),
                ("AWS_SECRET_ACCESS_KEY", "x"),
            ]),
            None,
        );
        let names: Vec<_> = env.inherited.keys().cloned().collect();
        assert_eq!(names, [OsString::from("HOME"), OsString::from("LANG")]);
    }

    #[test]
    fn a_missing_program_is_named_with_where_to_get_it() {
        let env = LaunchEnv::new(vars(&[("PATH", "/nonexistent")]), None);
        let error = env.resolve("uvx-that-is-not-there").unwrap_err();
        assert!(matches!(error, ToolsError::ProgramMissing(_)));
        assert!(error.to_string().contains("uvx-that-is-not-there"));
        let error = env.resolve("/nonexistent/npx").unwrap_err();
        assert!(error.to_string().contains("/nonexistent/npx"));
        assert!(env.resolve("sh").unwrap().is_absolute());
    }

    #[tokio::test]
    async fn the_login_shell_tells_its_path() {
        let path = login_shell_path(Path::new("/bin/sh"))
            .await
            .expect("sh answers");
        assert!(!path.is_empty());
        assert!(
            login_shell_path(Path::new("/nonexistent/shell"))
                .await
                .is_none()
        );
    }
}
