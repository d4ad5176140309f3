//! Cutting a JSON array that arrives in pieces (ChatGPT's `conversations.json`, often
//! hundreds of MB) into its elements as they complete, without parsing them, in linear
//! time and with one element held at a time. Knows nothing of conversations.

/// The largest one conversation of ChatGPT's file may be (its longest are a few MB);
/// a larger one is passed over and counted as unreadable.
pub(crate) const MAX_CONVERSATION_BYTES: usize = 64 << 20;

/// What a file turned out to be, from its first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Array,
    Object,
    NotJson,
}

/// Cuts a JSON array of objects arriving in pieces into its elements, without reading
/// them: only brackets outside strings count.
#[derive(Debug, Default)]
pub(crate) struct ArraySplitter {
    shape: Option<Shape>,
    /// Inside the array, between elements.
    between: bool,
    finished: bool,
    depth: u32,
    in_string: bool,
    escaped: bool,
    element: String,
    /// The element being read went past [`MAX_CONVERSATION_BYTES`]: the rest of it is
    /// passed over, and it is handed out empty (so it counts as unreadable).
    oversized: bool,
}

impl ArraySplitter {
    /// Adds `text` to the element being read, unless that makes it too large.
    fn keep(&mut self, text: &str) {
        if self.oversized || self.element.len() + text.len() > MAX_CONVERSATION_BYTES {
            self.oversized = true;
            self.element = String::new();
        } else {
            self.element.push_str(text);
        }
    }

    /// Feeds the next piece; `each` gets every element it completes.
    pub(crate) fn feed(&mut self, piece: &str, mut each: impl FnMut(&str)) -> Shape {
        let bytes = piece.as_bytes();
        let mut start = None;
        let mut i = 0;
        if self.depth > 0 {
            start = Some(0);
        }
        while i < bytes.len() {
            let b = bytes[i];
            match self.shape {
                None => {
                    if b.is_ascii_whitespace() || piece[i..].starts_with('\u{feff}') {
                        i += if b.is_ascii_whitespace() { 1 } else { 3 };
                        continue;
                    }
                    self.shape = Some(match b {
                        b'[' => {
                            self.between = true;
                            Shape::Array
                        }
                        b'{' => return Shape::Object,
                        _ => return Shape::NotJson,
                    });
                }
                Some(Shape::Array) if self.depth == 0 => {
                    if self.finished {
                        if !b.is_ascii_whitespace() {
                            return Shape::NotJson;
                        }
                    } else if b == b']' {
                        self.finished = true;
                    } else if b == b'{' {
                        self.depth = 1;
                        start = Some(i);
                    } else if !(b.is_ascii_whitespace() || b == b',') {
                        return Shape::NotJson;
                    }
                }
                Some(_) => {
                    if self.in_string {
                        if self.escaped {
                            self.escaped = false;
                        } else if b == b'\\' {
                            self.escaped = true;
                        } else if b == b'"' {
                            self.in_string = false;
                        }
                    } else {
                        match b {
                            b'"' => self.in_string = true,
                            b'{' | b'[' => self.depth += 1,
                            b'}' | b']' => {
                                self.depth -= 1;
                                if self.depth == 0 {
                                    let from = start.take().unwrap_or(0);
                                    self.keep(&piece[from..=i]);
                                    each(&self.element);
                                    self.element.clear();
                                    self.oversized = false;
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            i += 1;
        }
        if let Some(from) = start {
            self.keep(&piece[from..]);
        }
        self.shape.unwrap_or(Shape::Array)
    }

    /// The array's closing bracket has come.
    pub(crate) fn finished(&self) -> bool {
        self.finished
    }

    /// What the file is, once its first character arrived.
    pub(crate) fn shape(&self) -> Option<Shape> {
        self.shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A conversation larger than the bound is passed over whole (handed out empty, so it
    /// counts as unreadable) without being held, and the ones after it still arrive.
    #[test]
    fn an_oversized_element_is_passed_over_and_the_next_ones_arrive() {
        let mut splitter = ArraySplitter::default();
        let mut seen = Vec::new();
        splitter.feed("[{\"title\":\"small\"},{\"title\":\"", |e| {
            seen.push(e.len())
        });
        let piece = "x".repeat(1 << 20);
        for _ in 0..(MAX_CONVERSATION_BYTES >> 20) + 2 {
            splitter.feed(&piece, |e| seen.push(e.len()));
            assert!(splitter.element.len() <= MAX_CONVERSATION_BYTES);
        }
        splitter.feed("\"},{\"title\":\"after\"}]", |e| seen.push(e.len()));
        assert_eq!(seen, [17, 0, 17]);
        assert!(splitter.finished());
    }
}
