//! What a server is: its name and how to reach it, checked before anything is started.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ToolsError;

const MAX_NAME_CHARS: usize = 64;
const MAX_TEXT_BYTES: usize = 4096;
const MAX_ARGS: usize = 256;
const MAX_ENV: usize = 128;

/// A server as the user described it. The bearer token of a remote server is not part of it:
/// it lives in the keychain and is handed to [`crate::McpServers::start`] separately.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSpec {
    pub name: String,
    pub transport: Transport,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Transport {
    /// A program on this computer that speaks MCP on its standard input and output.
    Stdio {
        command: String,
        #[serde(default)]
        args: Vec<String>,
        #[serde(default)]
        env: BTreeMap<String, String>,
        /// The folder it starts in; the user's home when absent.
        #[serde(default)]
        cwd: Option<String>,
    },
    /// A server at an address, over Streamable HTTP.
    Http { url: String },
}

impl ServerSpec {
    /// The same server with surrounding spaces trimmed, or why it cannot be used.
    pub fn checked(mut self) -> Result<Self, ToolsError> {
        let invalid = |message: String| Err(ToolsError::InvalidServer(message));
        self.name = self.name.trim().to_string();
        if self.name.is_empty() {
            return invalid("Give the server a name.".into());
        }
        if self.name.chars().count() > MAX_NAME_CHARS || self.name.chars().any(char::is_control) {
            return invalid(format!(
                "A server's name is at most {MAX_NAME_CHARS} characters, on one line."
            ));
        }
        match &mut self.transport {
            Transport::Stdio {
                command,
                args,
                env,
                cwd,
            } => {
                *command = command.trim().to_string();
                if command.is_empty() {
                    return invalid("Give the program to start, such as npx or uvx.".into());
                }
                let too_long = |s: &str| s.len() > MAX_TEXT_BYTES || s.contains('\0');
                if too_long(command) || args.len() > MAX_ARGS || args.iter().any(|a| too_long(a)) {
                    return invalid(format!(
                        "The program and its arguments are too long (at most {MAX_ARGS} \
                         arguments of {MAX_TEXT_BYTES} bytes)."
                    ));
                }
                if env.len() > MAX_ENV {
                    return invalid(format!("At most {MAX_ENV} environment variables."));
                }
                if let Some(bad) = env.keys().find(|k| !valid_env_name(k)) {
                    return invalid(format!(
                        "“{}” is not a usable environment variable name (letters, digits \
                         and _, not starting with a digit).",
                        bad.chars().take(40).collect::<String>()
                    ));
                }
                if env.values().any(|v| too_long(v)) {
                    return invalid("An environment variable's value is too long.".into());
                }
                if let Some(folder) = cwd {
                    *folder = folder.trim().to_string();
                    if folder.is_empty() {
                        *cwd = None;
                    } else if too_long(folder) || !std::path::Path::new(folder).is_absolute() {
                        return invalid(
                            "The working folder must be a full path, such as /home/you/notes."
                                .into(),
                        );
                    }
                }
            }
            Transport::Http { url } => {
                *url = url.trim().to_string();
                check_url(url)?;
            }
        }
        Ok(self)
    }
}

fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

/// https anywhere; plain http only to this computer, where nothing on the way can read a token.
fn check_url(url: &str) -> Result<(), ToolsError> {
    let invalid = |message: &str| Err(ToolsError::InvalidServer(message.into()));
    if url.len() > MAX_TEXT_BYTES {
        return invalid("The address is too long.");
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return invalid("The address is not a web address (it should start with https://).");
    };
    let loopback = match parsed.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return invalid("The address has no server name."),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return invalid("Put a password in the token field, not in the address.");
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => invalid(
            "Plain http is only allowed to this computer (localhost); use the server's \
             https:// address.",
        ),
        _ => invalid("The address must start with https:// (or http://localhost)."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(url: &str) -> ServerSpec {
        ServerSpec {
            name: "remote".into(),
            transport: Transport::Http { url: url.into() },
        }
    }

    fn stdio(command: &str, env: &[(&str, &str)], cwd: Option<&str>) -> ServerSpec {
        ServerSpec {
            name: "local".into(),
            transport: Transport::Stdio {
                command: command.into(),
                args: vec![],
                env: env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                cwd: cwd.map(str::to_string),
            },
        }
    }

    #[test]
    fn addresses_are_https_or_loopback_http() {
        for (url, ok) in [
            ("https://mcp.example.com/mcp", true),
            ("http://127.0.0.1:8000/mcp", true),
            ("http://localhost:8000/mcp", true),
            ("http://[::1]:8000/mcp", true),
            ("http://mcp.example.com/mcp", false),
            ("http://10.0.0.2/mcp", false),
            ("ftp://example.com", false),
            ("file:///etc/passwd", false),
            ("https://user:pw@example.com/mcp", false),
            ("not an address", false),
        ] {
            assert_eq!(http(url).checked().is_ok(), ok, "{url}");
        }
    }

    #[test]
    fn a_stdio_server_needs_a_command_valid_env_names_and_a_full_working_folder() {
        for (spec, ok) in [
            (stdio("npx", &[("API_TOKEN", "x")], None), true),
            (stdio("  uvx ", &[], Some("/tmp")), true),
            (stdio("uvx", &[], Some("   ")), true),
            (stdio("", &[], None), false),
            (stdio("npx", &[("BAD=NAME", "x")], None), false),
            (stdio("npx", &[("1ST", "x")], None), false),
            (stdio("npx", &[], Some("relative/folder")), false),
            (stdio("np\0x", &[], None), false),
        ] {
            let shown = format!("{spec:?}");
            assert_eq!(spec.checked().is_ok(), ok, "{shown}");
        }
    }

    #[test]
    fn names_are_trimmed_one_line_and_short() {
        let mut spec = stdio("npx", &[], None);
        spec.name = "  time  ".into();
        assert_eq!(spec.clone().checked().unwrap().name, "time");
        spec.name = "two\nlines".into();
        assert!(spec.clone().checked().is_err());
        spec.name = "x".repeat(65);
        assert!(spec.clone().checked().is_err());
        spec.name = " ".into();
        assert!(spec.checked().is_err());
    }
}
