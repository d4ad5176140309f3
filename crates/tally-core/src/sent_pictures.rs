//! Pictures go no larger than the model reads them: a kept picture is fit in 2048×2048 (the
//! most any model reads), and a model reading less (gpt-4o reads a screenshot at 768 px on
//! its short side) gets a copy scaled to that, which bills the same and uploads less. The
//! copies are kept, bounded, so the pictures a conversation carries on every turn are
//! scaled once.

use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use tally_openai::{ChatMessage, PictureInput};
use tally_spend::PictureRule;

/// The scaled copies kept, in bytes of their `data:` addresses.
const KEPT_BYTES: usize = 64 << 20;

/// Scaled copies of pictures, the most recently sent kept (see the module's doc).
#[derive(Default)]
pub(crate) struct SentPictures {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    /// (the picture as kept and the size asked, its copy), oldest first.
    copies: VecDeque<(u64, Arc<PictureInput>)>,
    bytes: usize,
}

impl SentPictures {
    /// Each picture of `context` at the size `rule` reads it, when that is smaller. A
    /// picture that cannot be scaled goes as it is (it bills the same).
    pub(crate) fn at_read_size(&self, context: &mut [ChatMessage], rule: Option<PictureRule>) {
        let Some(rule) = rule else { return };
        for picture in context.iter_mut().flat_map(|m| m.pictures.iter_mut()) {
            let (width, height) = rule.read_size(picture.width, picture.height);
            if (width, height) == (picture.width, picture.height) {
                continue;
            }
            if let Some(copy) = self.copy_of(picture, width, height) {
                *picture = PictureInput::clone(&copy);
            }
        }
    }

    fn copy_of(
        &self,
        picture: &PictureInput,
        width: u32,
        height: u32,
    ) -> Option<Arc<PictureInput>> {
        let key = {
            let mut hasher = DefaultHasher::new();
            (&picture.data_url, width, height).hash(&mut hasher);
            hasher.finish()
        };
        if let Some(copy) = self.kept().find(key) {
            return Some(copy);
        }
        let (_, data) = picture.data_url.split_once(";base64,")?;
        let kept = base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .ok()?;
        let scaled = tally_attach::scaled_for_sending(&kept, width, height)
            .inspect_err(|e| tracing::warn!(error = %e, "a picture went unscaled"))
            .ok()?;
        let copy = Arc::new(PictureInput {
            data_url: format!(
                "data:{};base64,{}",
                scaled.format.mime(),
                base64::engine::general_purpose::STANDARD.encode(&scaled.bytes)
            ),
            width: scaled.width,
            height: scaled.height,
        });
        self.kept().put(key, copy.clone());
        Some(copy)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Kept {
    fn find(&mut self, key: u64) -> Option<Arc<PictureInput>> {
        let at = self.copies.iter().position(|(k, _)| *k == key)?;
        // Sent again: the most recent now.
        let entry = self.copies.remove(at)?;
        let copy = entry.1.clone();
        self.copies.push_back(entry);
        Some(copy)
    }

    fn put(&mut self, key: u64, copy: Arc<PictureInput>) {
        self.bytes += copy.data_url.len();
        self.copies.push_back((key, copy));
        while self.bytes > KEPT_BYTES {
            let Some((_, oldest)) = self.copies.pop_front() else {
                break;
            };
            self.bytes -= oldest.data_url.len();
        }
    }
}
