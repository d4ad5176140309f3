use std::fmt;

use zeroize::Zeroize;

/// A secret value. `Debug` and `Display` print a placeholder, there is no `Serialize`, and
/// the memory is wiped when it is dropped. Reading it takes an explicit [`Sensitive::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T: Zeroize>(T);

impl<T: Zeroize> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself. Call it only where the value leaves for its one destination
    /// (the keychain, or the `Authorization` header).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl Sensitive<String> {
    /// The last four characters, which the UI may show so users can tell keys apart.
    pub fn last_four(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    }
}

impl<T: Zeroize> Drop for Sensitive<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(<redacted>)")
    }
}

impl<T: Zeroize> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let secret = Sensitive::new("sk-proj-verysecretvalue1234".to_string());
        assert_eq!(format!("{secret:?}"), "Sensitive(<redacted>)");
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(
            format!("{:?}", Some(&secret)),
            "Some(Sensitive(<redacted>))"
        );
        assert_eq!(secret.last_four(), "1234");
        assert_eq!(Sensitive::new("ab".to_string()).last_four(), "ab");
    }
}
