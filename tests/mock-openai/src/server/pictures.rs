//! Pictures in requests, read as the real API reads them: the parts of a message's content
//! (Chat Completions' `text` / `image_url`, Responses' `input_text` / `input_image`), each
//! picture's size from its data URL, and its input tokens by the rule OpenAI publishes for
//! the model (its vision guide), written here on its own so that Tally's estimate is
//! checked against an independent reading of the rule, not against itself.

use base64::Engine;
use serde::{Deserialize, Deserializer};

/// A picture a request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedPicture {
    /// Its size in pixels, or why it could not be read.
    pub size: Result<(u32, u32), String>,
    /// `low`, `high` or `auto` (the API's default when none is given).
    pub detail: String,
    /// The data URL's length (what the request carried).
    pub url_bytes: usize,
}

/// A message's `content`: its text (parts joined), and its pictures.
#[derive(Debug, Clone, Default)]
pub struct Content {
    pub text: String,
    pub pictures: Vec<ReceivedPicture>,
}

/// `content` as either API sends it: a string, `null` (an assistant's calls alone), or a
/// list of parts.
pub fn content<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Content, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Text(String),
        Parts(Vec<Part>),
    }
    #[derive(Deserialize)]
    struct Part {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        text: Option<String>,
        /// Chat Completions: `{"url", "detail"}`; Responses: the URL itself.
        #[serde(default)]
        image_url: Option<ImageUrl>,
        /// Responses: beside `image_url`.
        #[serde(default)]
        detail: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ImageUrl {
        Url(String),
        Object {
            url: String,
            #[serde(default)]
            detail: Option<String>,
        },
    }
    Ok(match Option::<Wire>::deserialize(deserializer)? {
        None => Content::default(),
        Some(Wire::Text(text)) => Content {
            text,
            pictures: Vec::new(),
        },
        Some(Wire::Parts(parts)) => {
            let mut content = Content::default();
            for part in parts {
                match (part.kind.as_str(), part.text, part.image_url) {
                    ("text" | "input_text" | "output_text", Some(text), _) => {
                        content.text.push_str(&text)
                    }
                    ("image_url" | "input_image", _, Some(url)) => {
                        let (url, detail) = match url {
                            ImageUrl::Url(url) => (url, part.detail),
                            ImageUrl::Object { url, detail } => (url, detail.or(part.detail)),
                        };
                        content.pictures.push(ReceivedPicture {
                            size: size_of(&url),
                            detail: detail.unwrap_or_else(|| "auto".into()),
                            url_bytes: url.len(),
                        });
                    }
                    _ => {}
                }
            }
            content
        }
    })
}

/// The size of the picture in a `data:image/…;base64,` URL, from its header alone.
fn size_of(url: &str) -> Result<(u32, u32), String> {
    let data = url
        .strip_prefix("data:image/")
        .and_then(|rest| rest.split_once(";base64,"))
        .map(|(_, data)| data)
        .ok_or("not a base64 data URL of a picture (the mock fetches no address)")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("not base64: {e}"))?;
    image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .into_dimensions()
        .map_err(|e| e.to_string())
}

/// How a family of models reads pictures, as OpenAI's vision guide gives it.
enum Vision {
    /// Fit in 2048², short side to 768, then `base` plus `tile` per 512-px square.
    Tiles {
        base: u64,
        tile: u64,
    },
    /// 32-px patches up to `cap` (shrunk to fit), times `times_1000` / 1000.
    Patches {
        cap: u64,
        times_1000: u64,
    },
    None,
}

fn vision_of(model: &str) -> Vision {
    let family = model.rsplit('/').next().unwrap_or(model);
    let newer_patches = ["gpt-5.2", "gpt-5.3", "gpt-5.4", "gpt-5.5"];
    if ["o3-mini", "gpt-3.5"].iter().any(|p| family.starts_with(p)) {
        Vision::None
    } else if family.starts_with("gpt-4.1-mini") {
        Vision::Patches {
            cap: 1536,
            times_1000: 1620,
        }
    } else if family.starts_with("gpt-4.1-nano") {
        Vision::Patches {
            cap: 1536,
            times_1000: 2460,
        }
    } else if family.starts_with("o4-mini") {
        Vision::Patches {
            cap: 1536,
            times_1000: 1720,
        }
    } else if family.starts_with("gpt-5-mini") {
        Vision::Patches {
            cap: 1536,
            times_1000: 1200,
        }
    } else if family.starts_with("gpt-5-nano") {
        Vision::Patches {
            cap: 1536,
            times_1000: 1500,
        }
    } else if newer_patches.iter().any(|p| family.starts_with(p)) {
        Vision::Patches {
            cap: 2500,
            times_1000: 1200,
        }
    } else if family.starts_with("gpt-4o-mini") {
        Vision::Tiles {
            base: 2833,
            tile: 5667,
        }
    } else if family.starts_with("gpt-5") {
        Vision::Tiles {
            base: 70,
            tile: 140,
        }
    } else if family.starts_with('o') {
        Vision::Tiles {
            base: 75,
            tile: 150,
        }
    } else {
        Vision::Tiles {
            base: 85,
            tile: 170,
        }
    }
}

/// Whether `model` reads pictures at all.
pub fn sees(model: &str) -> bool {
    !matches!(vision_of(model), Vision::None)
}

/// The input tokens `model` bills a picture of `width`×`height` at `detail`.
pub fn tokens(model: &str, (width, height): (u32, u32), detail: &str) -> u64 {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    match vision_of(model) {
        Vision::None => 0,
        Vision::Tiles { base, .. } if detail == "low" => base,
        Vision::Tiles { base, tile } => {
            // Step 1: inside 2048×2048. Step 2: the short side at most 768.
            let fit = (2048.0 / w).min(2048.0 / h).min(1.0);
            let (w, h) = ((w * fit).floor(), (h * fit).floor());
            let short = (768.0 / w.min(h)).min(1.0);
            let (w, h) = ((w * short).floor().max(1.0), (h * short).floor().max(1.0));
            let squares = (w / 512.0).ceil() * (h / 512.0).ceil();
            base + tile * squares as u64
        }
        Vision::Patches { cap, times_1000 } => {
            let covering = |w: f64, h: f64| ((w / 32.0).ceil() * (h / 32.0).ceil()) as u64;
            let mut patches = covering(w, h);
            if patches > cap {
                // The guide's steps: shrink by the square root of the area ratio, then so
                // that whole patches fit across the side that limits it.
                let shrink = (32.0 * 32.0 * cap as f64 / (w * h)).sqrt();
                let across = w * shrink / 32.0;
                let down = h * shrink / 32.0;
                let shrink = shrink * (across.floor() / across).min(down.floor() / down);
                patches =
                    covering((w * shrink).floor().max(1.0), (h * shrink).floor().max(1.0)).min(cap);
            }
            (patches * times_1000).div_ceil(1000)
        }
    }
}

#[cfg(test)]
mod tests {
    /// The vision guide's worked examples.
    #[test]
    fn the_guides_examples() {
        for (model, size, tokens) in [
            ("gpt-4o", (1024, 1024), 765),
            ("gpt-4o-2024-08-06", (2048, 4096), 1105),
            ("gpt-4.1-mini", (1024, 1024), 1659),
            ("gpt-5.4", (1024, 1024), 1229),
            ("o3", (512, 512), 225),
        ] {
            assert_eq!(
                super::tokens(model, size, "high"),
                tokens,
                "{model} {size:?}"
            );
        }
        assert_eq!(super::tokens("gpt-4o", (4000, 4000), "low"), 85);
        assert!(!super::sees("o3-mini") && super::sees("gpt-5.4-nano"));
    }
}
