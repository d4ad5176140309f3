//! Attachments: a file the person chose, pasted or dropped, made safe to send
//! (`tally-attach`: a picture upright, stripped and scaled; a text file's text), kept with
//! the conversation (`tally-store`, content-addressed), counted for the model, and turned
//! into what a request carries: pictures as pictures, a file's text inside the message.

use std::collections::HashMap;

use base64::Engine as _;
use tally_openai::PictureInput;
use tally_store::{AttachmentKind as StoredKind, Message, MessageAttachment, NewAttachment, Role};

use crate::CoreError;
use crate::api::{
    AddedAttachment, AttachmentContent, AttachmentInput, AttachmentKind, AttachmentRef,
    AttachmentView,
};
use crate::engine::Engine;

/// The most attachments one message carries.
pub(crate) const MAX_PER_MESSAGE: usize = 20;
/// The most one message's attachments weigh together, as kept (pictures after scaling).
pub(crate) const MAX_BYTES_PER_MESSAGE: u64 = 40_000_000;
/// How long an attachment no message carries (a draft's, never sent) is kept.
pub(crate) const UNSENT_KEPT_MS: i64 = 24 * 60 * 60 * 1000;

/// Whether a context's pictures are read whole (to be sent) or only measured (to be
/// counted: their tokens follow from their size alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pictures {
    Sent,
    Counted,
}

/// What a message sends besides its own text: its pictures, and its files' text (inside the
/// message, each under its name).
#[derive(Debug, Default)]
pub(crate) struct Carried {
    pub pictures: Vec<PictureInput>,
    pub files: Vec<(String, String)>,
}

impl Carried {
    /// The message's text as sent: what was typed, then each file under its name.
    pub(crate) fn text_with_files(&self, typed: &str) -> String {
        if self.files.is_empty() {
            return typed.to_string();
        }
        let mut text = typed.to_string();
        for (name, content) in &self.files {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&format!(
                "--- Attached file: {name} ---\n{content}\n--- End of {name} ---"
            ));
        }
        text
    }
}

impl Engine {
    /// Keeps `input` for a draft to `model` and says what it adds to the request. A picture
    /// for a model that takes none is refused before anything is kept.
    pub fn attachment_add(
        &self,
        input: AttachmentInput,
        model: &str,
    ) -> Result<AddedAttachment, CoreError> {
        let name = checked_name(&input.name);
        if let Some(kind) = tally_attach::office_document(&name) {
            return Err(tally_attach::AttachError::Office { kind: kind.into() }.into());
        }
        let file = decoded(&input.data_base64)?;
        let now = self.now();
        let kept = if tally_attach::is_pdf(&file) {
            self.kept_pdf(&file, now)?
        } else {
            self.kept_picture_or_text(&file, model, now)?
        };
        let attachment = view(&name, &kept);
        let tokens = self.attachment_tokens(model, &attachment)?;
        let cost_nanos = self
            .meter
            .price_of(model)
            .map(|price| tally_spend::worst_case_cost(tokens, 0, 0, &price));
        Ok(AddedAttachment {
            attachment,
            tokens,
            cost_nanos,
        })
    }

    /// Keeps the pages of a scanned PDF (`input`, one [`Engine::attachment_add`] said has
    /// no text) as pictures for a draft to `model`, at most
    /// [`tally_attach::MAX_PAGE_PICTURES`], each named after the file and its page, and says
    /// what each adds to the request. Refused, before anything is drawn, for a model that
    /// takes no pictures.
    pub fn attachment_add_pdf_pages(
        &self,
        input: AttachmentInput,
        model: &str,
    ) -> Result<Vec<AddedAttachment>, CoreError> {
        let name = checked_name(&input.name);
        self.needs_vision(model)?;
        let file = decoded(&input.data_base64)?;
        if !tally_attach::is_pdf(&file) {
            return Err(CoreError::AttachmentRefused(
                "This file is not a PDF, so it has no pages to send as pictures.".into(),
            ));
        }
        let reader = self.pdf_reader()?;
        let (pictures, pages) = tally_attach::pdf_pages_as_pictures(&file, reader)?;
        let now = self.now();
        let stem = name
            .strip_suffix(".pdf")
            .or_else(|| name.strip_suffix(".PDF"))
            .unwrap_or(&name);
        let price = self.meter.price_of(model);
        pictures
            .iter()
            .enumerate()
            .map(|(i, picture)| {
                let kept = self.keep_picture(picture, now)?;
                let page_name = format!(
                    "{stem}, page {} of {pages}.{}",
                    i + 1,
                    picture.format.extension()
                );
                let attachment = view(&page_name, &kept);
                let tokens = self.attachment_tokens(model, &attachment)?;
                Ok(AddedAttachment {
                    attachment,
                    tokens,
                    cost_nanos: price
                        .as_ref()
                        .map(|price| tally_spend::worst_case_cost(tokens, 0, 0, price)),
                })
            })
            .collect()
    }

    fn keep_picture(
        &self,
        picture: &tally_attach::Picture,
        now: i64,
    ) -> Result<tally_store::Attachment, CoreError> {
        Ok(self.store().put_attachment(
            &NewAttachment {
                kind: StoredKind::Image,
                mime: picture.format.mime(),
                content: &picture.bytes,
                width: Some(picture.width),
                height: Some(picture.height),
                pages: None,
            },
            now,
        )?)
    }

    fn pdf_reader(&self) -> Result<&tally_attach::PdfReader, CoreError> {
        self.pdf_reader.as_ref().ok_or_else(|| {
            CoreError::AttachmentRefused("This copy of Tally cannot read PDFs.".into())
        })
    }

    /// Keeps a PDF's text, read apart from the app (see `tally_attach::read_pdf`).
    fn kept_pdf(&self, file: &[u8], now: i64) -> Result<tally_store::Attachment, CoreError> {
        let pdf = tally_attach::read_pdf(file, self.pdf_reader()?)?;
        if pdf.text.trim().is_empty() {
            return Err(tally_attach::AttachError::PdfWithoutText { pages: pdf.pages }.into());
        }
        Ok(self.store().put_attachment(
            &NewAttachment {
                kind: StoredKind::File,
                mime: "text/plain; charset=utf-8",
                content: pdf.text.as_bytes(),
                width: None,
                height: None,
                pages: Some(pdf.pages),
            },
            now,
        )?)
    }

    /// Keeps a picture (upright, stripped, scaled; refused for a model that takes none) or
    /// a text file's text.
    fn kept_picture_or_text(
        &self,
        file: &[u8],
        model: &str,
        now: i64,
    ) -> Result<tally_store::Attachment, CoreError> {
        Ok(match tally_attach::prepare_picture(file) {
            Ok(picture) => {
                self.needs_vision(model)?;
                self.keep_picture(&picture, now)?
            }
            Err(tally_attach::AttachError::NotAPicture) => {
                let text = tally_attach::prepare_text(file)?;
                self.store().put_attachment(
                    &NewAttachment {
                        kind: StoredKind::File,
                        mime: "text/plain; charset=utf-8",
                        content: text.as_bytes(),
                        width: None,
                        height: None,
                        pages: None,
                    },
                    now,
                )?
            }
            Err(refused) => return Err(refused.into()),
        })
    }

    /// A kept attachment's content, for the window to show.
    pub fn attachment_content(&self, id: i64) -> Result<AttachmentContent, CoreError> {
        let store = self.store();
        let attachment = store.attachment(id)?;
        Ok(AttachmentContent {
            mime: attachment.mime,
            data_base64: base64::engine::general_purpose::STANDARD
                .encode(store.attachment_content(id)?),
        })
    }

    /// The input tokens `attachment` adds to a request to `model` (a file's text is counted
    /// as it is sent, under its name).
    pub(crate) fn attachment_tokens(
        &self,
        model: &str,
        attachment: &AttachmentView,
    ) -> Result<u64, CoreError> {
        Ok(match attachment.kind {
            AttachmentKind::Image => {
                let rule = self.meter.traits(model).pictures;
                let (w, h) = (
                    attachment.width.unwrap_or(1),
                    attachment.height.unwrap_or(1),
                );
                rule.map_or(0, |rule| rule.tokens(w, h))
            }
            AttachmentKind::File => {
                let text =
                    String::from_utf8_lossy(&self.store().attachment_content(attachment.id)?)
                        .into_owned();
                let carried = Carried {
                    pictures: Vec::new(),
                    files: vec![(attachment.name.clone(), text)],
                };
                self.meter
                    .kept_text_tokens(model, &carried.text_with_files(""))
            }
        })
    }

    /// Each draft attachment's tokens for `model`, and why they could not be sent to it
    /// (said, not refused: the estimate is shown while the person types).
    pub(crate) fn draft_attachment_tokens(
        &self,
        refs: &[AttachmentRef],
        model: &str,
    ) -> Result<(Vec<u64>, Option<String>), CoreError> {
        let problem = match self.checked_attachments(refs, model) {
            Ok(_) => None,
            Err(e @ (CoreError::AttachmentRefused(_) | CoreError::ModelWithoutVision(..))) => {
                Some(e.to_string())
            }
            Err(e) => return Err(e),
        };
        let mut tokens = Vec::with_capacity(refs.len());
        for attachment in refs {
            let kept = self.store().attachment(attachment.id);
            let counted = match kept {
                Ok(kept) => {
                    self.attachment_tokens(model, &view(&checked_name(&attachment.name), &kept))?
                }
                Err(_) => 0,
            };
            tokens.push(counted);
        }
        Ok((tokens, problem))
    }

    /// Refuses a picture for `model` when it takes none, naming one that does.
    pub(crate) fn needs_vision(&self, model: &str) -> Result<(), CoreError> {
        if self.meter.traits(model).pictures.is_some() {
            return Ok(());
        }
        let default = self.default_model()?;
        let suggestion = if self.meter.traits(&default).pictures.is_some() {
            default
        } else {
            "gpt-5.4-mini".to_string()
        };
        Err(CoreError::ModelWithoutVision(model.to_string(), suggestion))
    }

    /// The kept attachments `refs` names, checked for a message to `model` (see
    /// [`Engine::checked_attachments`]), and what the message carries.
    pub(crate) fn attachments_for_send(
        &self,
        refs: &[AttachmentRef],
        model: &str,
    ) -> Result<(Vec<AttachmentView>, Carried), CoreError> {
        let views = self.checked_attachments(refs, model)?;
        let mut carried = Carried::default();
        for view in &views {
            self.carry(view, &mut carried, Pictures::Sent)?;
        }
        Ok((views, carried))
    }

    /// The kept attachments `refs` names, in order, checked for a message to `model`: each
    /// still kept, a picture only for a model that sees, and within a message's bounds.
    fn checked_attachments(
        &self,
        refs: &[AttachmentRef],
        model: &str,
    ) -> Result<Vec<AttachmentView>, CoreError> {
        if refs.len() > MAX_PER_MESSAGE {
            return Err(CoreError::AttachmentRefused(format!(
                "A message can carry {MAX_PER_MESSAGE} attachments at most. Send the rest in \
                 another message."
            )));
        }
        let mut views = Vec::with_capacity(refs.len());
        let mut total = 0u64;
        for attachment in refs {
            let kept = self.store().attachment(attachment.id).map_err(|_| {
                CoreError::AttachmentRefused(format!(
                    "{} is no longer kept (it was attached more than a day ago and never \
                     sent). Attach it again.",
                    attachment.name
                ))
            })?;
            total += kept.size_bytes;
            if total > MAX_BYTES_PER_MESSAGE {
                return Err(CoreError::AttachmentRefused(format!(
                    "These attachments weigh more than {} together, the most one message \
                     carries. Send some of them in another message.",
                    tally_attach::size_in_words(MAX_BYTES_PER_MESSAGE)
                )));
            }
            let view = view(&checked_name(&attachment.name), &kept);
            if view.kind == AttachmentKind::Image {
                self.needs_vision(model)?;
            }
            views.push(view);
        }
        Ok(views)
    }

    /// What message `id` carries, as a new message would name it (an edit keeps them).
    pub(crate) fn attachments_of_message(&self, id: i64) -> Result<Vec<AttachmentRef>, CoreError> {
        Ok(self
            .store()
            .attachments_of(&[id])?
            .remove(&id)
            .unwrap_or_default()
            .into_iter()
            .map(|a| AttachmentRef {
                id: a.attachment.id,
                name: a.name,
            })
            .collect())
    }

    /// What each of `messages` (a branch) that carries attachments sends besides its text,
    /// its pictures read whole or only measured as `pictures` says.
    pub(crate) fn carried_by(
        &self,
        messages: &[Message],
        pictures: Pictures,
    ) -> Result<HashMap<i64, Carried>, CoreError> {
        let users: Vec<i64> = messages
            .iter()
            .filter(|m| m.role == Role::User)
            .map(|m| m.id)
            .collect();
        let attached = self.store().attachments_of(&users)?;
        let mut carried = HashMap::with_capacity(attached.len());
        for (message_id, attachments) in attached {
            let mut carries = Carried::default();
            for attachment in &attachments {
                self.carry(&message_view(attachment), &mut carries, pictures)?;
            }
            carried.insert(message_id, carries);
        }
        Ok(carried)
    }

    /// Adds `attachment` to what its message carries: a file's text, a picture read whole
    /// (or, to be counted, only its size: its content is not read).
    fn carry(
        &self,
        attachment: &AttachmentView,
        carried: &mut Carried,
        pictures: Pictures,
    ) -> Result<(), CoreError> {
        let (width, height) = (
            attachment.width.unwrap_or(1),
            attachment.height.unwrap_or(1),
        );
        match (attachment.kind, pictures) {
            (AttachmentKind::Image, Pictures::Counted) => carried.pictures.push(PictureInput {
                data_url: String::new(),
                width,
                height,
            }),
            (AttachmentKind::Image, Pictures::Sent) => {
                let content = self.store().attachment_content(attachment.id)?;
                carried.pictures.push(PictureInput {
                    data_url: format!(
                        "data:{};base64,{}",
                        attachment.mime,
                        base64::engine::general_purpose::STANDARD.encode(content)
                    ),
                    width,
                    height,
                });
            }
            (AttachmentKind::File, _) => {
                let content = self.store().attachment_content(attachment.id)?;
                carried.files.push((
                    attachment.name.clone(),
                    String::from_utf8_lossy(&content).into_owned(),
                ));
            }
        }
        Ok(())
    }
}

/// The most an attachment's file may hold, of any kind (each kind has its own bound, checked
/// once its kind is known: this one only keeps a larger file from being decoded at all).
const LARGEST_FILE_BYTES: u64 = {
    let (picture, text, pdf) = (
        tally_attach::MAX_PICTURE_BYTES,
        tally_attach::MAX_TEXT_BYTES,
        tally_attach::MAX_PDF_BYTES,
    );
    let larger = if picture > text { picture } else { text };
    if pdf > larger { pdf } else { larger }
};

/// An attachment's content from its base64 (over IPC, in a Tally file), refused before
/// decoding when it holds more than [`LARGEST_FILE_BYTES`] (base64 is a third larger than
/// what it holds).
pub(crate) fn decoded(data_base64: &str) -> Result<Vec<u8>, CoreError> {
    if data_base64.len() as u64 > LARGEST_FILE_BYTES.div_ceil(3) * 4 {
        let words = tally_attach::size_in_words;
        return Err(CoreError::AttachmentRefused(format!(
            "This file is {}, larger than anything Tally can attach (pictures up to {}, PDFs \
             up to {}, text files up to {}).",
            words(data_base64.len() as u64 / 4 * 3),
            words(tally_attach::MAX_PICTURE_BYTES),
            words(tally_attach::MAX_PDF_BYTES),
            words(tally_attach::MAX_TEXT_BYTES),
        )));
    }
    base64::engine::general_purpose::STANDARD
        .decode(data_base64.as_bytes())
        .map_err(|_| CoreError::AttachmentRefused("The file could not be read.".into()))
}

/// A file's name as shown and sent: its last path part, without control characters,
/// bounded; "attachment" when nothing is left.
pub(crate) fn checked_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim();
    if clean.is_empty() {
        "attachment".to_string()
    } else {
        clean.to_string()
    }
}

fn view(name: &str, kept: &tally_store::Attachment) -> AttachmentView {
    AttachmentView {
        id: kept.id,
        kind: match kept.kind {
            StoredKind::Image => AttachmentKind::Image,
            StoredKind::File => AttachmentKind::File,
        },
        name: name.to_string(),
        mime: kept.mime.clone(),
        size_bytes: kept.size_bytes,
        width: kept.width,
        height: kept.height,
        pages: kept.pages,
    }
}

fn message_view(attached: &MessageAttachment) -> AttachmentView {
    view(&attached.name, &attached.attachment)
}

/// Messages' attachments (as the store lists them) as the window shows them.
pub(crate) fn message_views(
    attached: HashMap<i64, Vec<MessageAttachment>>,
) -> HashMap<i64, Vec<AttachmentView>> {
    attached
        .into_iter()
        .map(|(id, list)| (id, list.iter().map(message_view).collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_the_files_own_and_harmless() {
        for (given, kept) in [
            ("IMG_2041.jpg", "IMG_2041.jpg"),
            ("/home/ana/Pictures/letter.png", "letter.png"),
            ("C:\\Users\\ana\\bank.csv", "bank.csv"),
            ("bad\u{7}\nname.txt", "badname.txt"),
            ("   ", "attachment"),
            ("dir/", "attachment"),
        ] {
            assert_eq!(super::checked_name(given), kept, "{given:?}");
        }
    }
}
