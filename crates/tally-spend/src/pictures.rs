//! What a picture costs: the input tokens a model bills for it, by the rule OpenAI publishes
//! for that model, and the size the model reads it at (so Tally sends no pixel that is not
//! read). Two rules exist: tile models scale a picture to fit 2048×2048, then its short
//! side to 768 px, and bill a base plus a price per 512-px tile; patch models cover it with
//! 32-px patches, scaled down to a model's most patches, and bill the patches times a
//! per-model multiplier. Pictures are sent at `detail: "high"`, the detail these rules
//! describe.

use serde::{Deserialize, Serialize};

/// The first step of the tile rule: fit within this square.
const TILE_FIT: u32 = 2048;
/// The second step: the short side down to this.
const TILE_SHORT_SIDE: u32 = 768;
const TILE: u32 = 512;
const PATCH: u32 = 32;

/// How a model reads a picture, from the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PictureRule {
    /// `base` tokens, plus `per_tile` for each 512-px tile of the scaled picture.
    Tiles { base: u32, per_tile: u32 },
    /// One token per 32-px patch, at most `max` patches (the picture scaled down to fit),
    /// times `multiplier_permille` / 1000 (rounded up).
    Patches { max: u32, multiplier_permille: u32 },
}

impl PictureRule {
    /// The size, in pixels, the model reads a `width`×`height` picture at: never larger
    /// than the picture.
    pub fn read_size(&self, width: u32, height: u32) -> (u32, u32) {
        let (width, height) = (width.max(1), height.max(1));
        match *self {
            Self::Tiles { .. } => {
                let (w, h) = shrink_to_fit(width, height, TILE_FIT, TILE_FIT);
                let short = w.min(h);
                if short <= TILE_SHORT_SIDE {
                    return (w, h);
                }
                let scale = f64::from(TILE_SHORT_SIDE) / f64::from(short);
                scaled(w, h, scale)
            }
            Self::Patches { max, .. } => {
                if patches(width, height) <= u64::from(max) {
                    return (width, height);
                }
                // OpenAI's published steps: shrink by the square root of the area ratio,
                // then a little more so that whole patches fit on the limiting side.
                let (w, h) = (f64::from(width), f64::from(height));
                let patch = f64::from(PATCH);
                let shrink = (patch * patch * f64::from(max) / (w * h)).sqrt();
                let fit = |side: f64| {
                    let patches = side * shrink / patch;
                    patches.floor().max(1.0) / patches
                };
                let shrink = shrink * fit(w).min(fit(h));
                let mut size = scaled(width, height, shrink);
                // Rounding may leave one patch row too many: shave a pixel until it fits.
                while patches(size.0, size.1) > u64::from(max) && size.0.max(size.1) > 1 {
                    size = if size.0 >= size.1 {
                        (size.0 - 1, size.1)
                    } else {
                        (size.0, size.1 - 1)
                    };
                }
                size
            }
        }
    }

    /// The input tokens a `width`×`height` picture is billed as.
    pub fn tokens(&self, width: u32, height: u32) -> u64 {
        let (w, h) = self.read_size(width, height);
        match *self {
            Self::Tiles { base, per_tile } => {
                let tiles = u64::from(w.div_ceil(TILE)) * u64::from(h.div_ceil(TILE));
                u64::from(base) + u64::from(per_tile) * tiles
            }
            Self::Patches {
                multiplier_permille,
                ..
            } => (patches(w, h) * u64::from(multiplier_permille)).div_ceil(1000),
        }
    }
}

fn patches(width: u32, height: u32) -> u64 {
    u64::from(width.div_ceil(PATCH)) * u64::from(height.div_ceil(PATCH))
}

/// `width`×`height` shrunk, keeping its shape, to fit `max_w`×`max_h` (never enlarged).
fn shrink_to_fit(width: u32, height: u32, max_w: u32, max_h: u32) -> (u32, u32) {
    if width <= max_w && height <= max_h {
        return (width, height);
    }
    let scale = (f64::from(max_w) / f64::from(width)).min(f64::from(max_h) / f64::from(height));
    scaled(width, height, scale)
}

fn scaled(width: u32, height: u32, scale: f64) -> (u32, u32) {
    let side = |s: u32| ((f64::from(s) * scale).floor() as u32).max(1);
    (side(width), side(height))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GPT_4O: PictureRule = PictureRule::Tiles {
        base: 85,
        per_tile: 170,
    };
    const GPT_4O_MINI: PictureRule = PictureRule::Tiles {
        base: 2833,
        per_tile: 5667,
    };
    const GPT_4_1_MINI: PictureRule = PictureRule::Patches {
        max: 1536,
        multiplier_permille: 1620,
    };
    const PLAIN_PATCHES: PictureRule = PictureRule::Patches {
        max: 1536,
        multiplier_permille: 1000,
    };

    /// (rule, picture size, size read at, tokens)
    type Case = (PictureRule, (u32, u32), (u32, u32), u64);

    /// The worked examples of OpenAI's vision guide, and the edges of each step.
    #[test]
    fn pictures_cost_what_the_published_rules_say() {
        let cases: &[Case] = &[
            // 1024² → 768² → 4 tiles: 85 + 4 × 170.
            (GPT_4O, (1024, 1024), (768, 768), 765),
            // 2048×4096 → 1024×2048 → 768×1536 → 6 tiles.
            (GPT_4O, (2048, 4096), (768, 1536), 1105),
            // Small pictures are not enlarged: one tile.
            (GPT_4O, (300, 200), (300, 200), 255),
            (GPT_4O, (512, 512), (512, 512), 255),
            (GPT_4O, (513, 512), (513, 512), 425),
            // A 12-megapixel phone photo (4032×3024) → 1024×768 → 4 tiles.
            (GPT_4O, (4032, 3024), (1024, 768), 765),
            (GPT_4O_MINI, (1024, 1024), (768, 768), 25501),
            // 1024² is 32 × 32 = 1024 patches, under the cap.
            (PLAIN_PATCHES, (1024, 1024), (1024, 1024), 1024),
            // 1800×2400 (4275 patches) shrinks to fit: 1452 patches.
            (PLAIN_PATCHES, (1800, 2400), (1056, 1408), 1452),
            (GPT_4_1_MINI, (1024, 1024), (1024, 1024), 1659),
            (PLAIN_PATCHES, (1, 1), (1, 1), 1),
        ];
        for &(rule, (w, h), read, tokens) in cases {
            assert_eq!(rule.read_size(w, h), read, "{rule:?} {w}×{h}");
            assert_eq!(rule.tokens(w, h), tokens, "{rule:?} {w}×{h}");
        }
    }

    /// Whatever its shape, a picture never costs more than the cap, and reading the size a
    /// model reads at changes nothing (Tally sends that size; the server scales no more).
    #[test]
    fn patch_pictures_stay_under_the_cap_and_scaling_is_stable() {
        for (w, h) in [
            (1, 20_000),
            (20_000, 1),
            (4032, 3024),
            (1537, 1),
            (6000, 6000),
            (33, 10_000),
        ] {
            for rule in [GPT_4O, PLAIN_PATCHES] {
                let (rw, rh) = rule.read_size(w, h);
                assert!(rw <= w && rh <= h, "{rule:?} {w}×{h} read at {rw}×{rh}");
                assert_eq!(rule.read_size(rw, rh), (rw, rh), "{rule:?} {w}×{h}");
                assert_eq!(rule.tokens(rw, rh), rule.tokens(w, h), "{rule:?} {w}×{h}");
            }
            let (rw, rh) = PLAIN_PATCHES.read_size(w, h);
            assert!(
                patches(rw, rh) <= 1536,
                "{w}×{h}: {} patches",
                patches(rw, rh)
            );
        }
    }
}
