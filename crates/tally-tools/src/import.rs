//! The `mcpServers` JSON other apps use (Claude Desktop, Cursor, VS Code's `servers`), read
//! into servers Tally can start: every usable entry, and each other one with why not.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Deserialize;

use crate::ToolsError;
use crate::spec::{ServerSpec, Transport};

const MAX_IMPORT_BYTES: usize = 1024 * 1024;
const MAX_IMPORTED: usize = 100;

/// One server of a pasted file, ready to be saved.
#[derive(Debug)]
pub struct ImportedServer {
    pub spec: ServerSpec,
    /// From an `Authorization: Bearer …` header: it goes to the keychain.
    pub bearer: Option<SecretString>,
    pub enabled: bool,
}

#[derive(Debug, Default)]
pub struct ImportReport {
    pub servers: Vec<ImportedServer>,
    /// Each entry left out: its name and why.
    pub skipped: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct ImportFile {
    #[serde(rename = "mcpServers", alias = "servers")]
    servers: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
struct Entry {
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    cwd: Option<String>,
    url: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    disabled: bool,
}

/// Reads a pasted configuration: either `{"mcpServers": {…}}` (or `"servers"`) or the
/// servers' object alone.
pub fn parse_mcp_servers_json(text: &str) -> Result<ImportReport, ToolsError> {
    let invalid = |message: String| Err(ToolsError::InvalidServer(message));
    if text.len() > MAX_IMPORT_BYTES {
        return invalid("That is too long for a list of servers (at most 1 MB).".into());
    }
    let servers = match serde_json::from_str::<ImportFile>(text) {
        Ok(file) => file.servers,
        Err(_) => match serde_json::from_str::<BTreeMap<String, Entry>>(text) {
            Ok(servers) => servers,
            Err(e) => {
                return invalid(format!(
                    "This is not an mcpServers list Tally can read (line {}, column {}). \
                     Paste the JSON that starts with {{\"mcpServers\": …}}.",
                    e.line(),
                    e.column()
                ));
            }
        },
    };
    if servers.len() > MAX_IMPORTED {
        return invalid(format!("At most {MAX_IMPORTED} servers at once."));
    }
    let mut report = ImportReport::default();
    for (name, entry) in servers {
        match entry.into_server(name.clone()) {
            Ok(server) => report.servers.push(server),
            Err(why) => report.skipped.push((name, why.to_string())),
        }
    }
    Ok(report)
}

impl Entry {
    fn into_server(self, name: String) -> Result<ImportedServer, ToolsError> {
        let invalid = |message: &str| Err(ToolsError::InvalidServer(message.into()));
        let kind = self.kind.as_deref().map(str::to_ascii_lowercase);
        if kind.as_deref() == Some("sse") {
            return invalid(
                "It uses the older SSE transport, which Tally does not support; ask its \
                 maker for the Streamable HTTP address.",
            );
        }
        let (transport, bearer) = match (self.command, self.url) {
            (Some(command), None) => (
                Transport::Stdio {
                    command,
                    args: self.args,
                    env: self.env,
                    cwd: self.cwd,
                },
                None,
            ),
            (None, Some(url)) => {
                let mut bearer = None;
                for (header, value) in &self.headers {
                    let token = value
                        .strip_prefix("Bearer ")
                        .filter(|_| header.eq_ignore_ascii_case("authorization"));
                    match token {
                        Some(token) => bearer = Some(SecretString::from(token.trim().to_string())),
                        None => {
                            return invalid(
                                "It needs HTTP headers other than a bearer token, which Tally \
                                 does not send.",
                            );
                        }
                    }
                }
                (Transport::Http { url }, bearer)
            }
            (Some(_), Some(_)) => return invalid("It has both a command and an address."),
            (None, None) => return invalid("It has neither a command nor an address."),
        };
        let spec = ServerSpec { name, transport }.checked()?;
        Ok(ImportedServer {
            spec,
            bearer,
            enabled: !self.disabled,
        })
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn reads_claude_desktops_file_with_local_and_remote_servers() {
        let report = parse_mcp_servers_json(
            r#"{"mcpServers": {
                "time": {"command": "uvx", "args": ["mcp-server-time", "--local-timezone=UTC"]},
                "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
                          "env": {"DEBUG": "1"}, "disabled": true},
                "remote": {"type": "http", "url": "https://mcp.example.com/mcp",
                           "headers": {"Authorization": "Bearer tok-123"}}
            }}"#,
        )
        .unwrap();
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let names: Vec<_> = report
            .servers
            .iter()
            .map(|s| s.spec.name.as_str())
            .collect();
        assert_eq!(names, ["files", "remote", "time"]);
        assert!(!report.servers[0].enabled);
        assert!(report.servers[2].enabled);
        let remote = &report.servers[1];
        assert_eq!(
            remote.spec.transport,
            Transport::Http {
                url: "https://mcp.example.com/mcp".into()
            }
        );
        assert_eq!(remote.bearer.as_ref().unwrap().expose_secret(), "tok-123");
        assert!(!format!("{remote:?}").contains("tok-123"));
    }

    #[test]
    fn reads_vs_codes_servers_key_and_a_bare_object() {
        for text in [
            r#"{"servers": {"t": {"command": "uvx", "args": ["mcp-server-time"]}}}"#,
            r#"{"t": {"command": "uvx", "args": ["mcp-server-time"]}}"#,
        ] {
            let report = parse_mcp_servers_json(text).unwrap();
            assert_eq!(report.servers.len(), 1, "{text}");
        }
    }

    #[test]
    fn entries_tally_cannot_use_are_skipped_with_the_reason_and_the_rest_kept() {
        let report = parse_mcp_servers_json(
            r#"{"mcpServers": {
                "ok": {"command": "uvx"},
                "old": {"type": "sse", "url": "https://example.com/sse"},
                "both": {"command": "x", "url": "https://example.com"},
                "neither": {},
                "plain": {"url": "http://example.com/mcp"},
                "headers": {"url": "https://example.com/mcp", "headers": {"X-Api-Key": "k"}}
            }}"#,
        )
        .unwrap();
        assert_eq!(report.servers.len(), 1);
        let skipped: BTreeMap<_, _> = report.skipped.into_iter().collect();
        assert_eq!(skipped.len(), 5);
        assert!(skipped["old"].contains("SSE"));
        assert!(skipped["plain"].contains("https"));
        assert!(skipped["headers"].contains("headers"));
    }

    #[test]
    fn text_that_is_not_a_server_list_is_refused_in_words() {
        for text in [
            "",
            "[1,2]",
            "{\"mcpServers\": 3}",
            "{\"a\": {\"command\": 5}}",
        ] {
            let error = parse_mcp_servers_json(text).unwrap_err();
            assert!(error.to_string().contains("mcpServers"), "{text}: {error}");
        }
        let huge = format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_IMPORT_BYTES));
        assert!(parse_mcp_servers_json(&huge).is_err());
    }
}
