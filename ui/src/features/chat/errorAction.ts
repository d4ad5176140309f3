// The one action an error banner offers, by error code.
import type { ErrorCode } from "../../lib/ipc";

export type ErrorAction =
  | { kind: "settings"; label: string }
  | { kind: "retry"; label: string }
  | { kind: "new-chat"; label: string }
  | { kind: "link"; label: string; url: string }
  | { kind: "dismiss"; label: string };

const BILLING_URL = "https://platform.openai.com/settings/organization/billing";

/** `canRetry`: whether the last reply can be tried again. */
export function errorAction(code: ErrorCode, canRetry: boolean): ErrorAction {
  switch (code) {
    case "missing_api_key":
    case "invalid_api_key":
    case "keychain_unavailable":
      return { kind: "settings", label: "Open Settings" };
    case "key_not_sent":
      return { kind: "settings", label: "Check the API address" };
    case "model_not_found":
      return { kind: "settings", label: "Pick another model" };
    case "context_too_long":
      return { kind: "new-chat", label: "Start a new chat" };
    case "quota_exhausted":
      return { kind: "link", label: "Open OpenAI billing", url: BILLING_URL };
    // Passing trouble, a restore that was running, or a disk the user has since freed:
    // worth another go.
    case "rate_limited":
    case "server_error":
    case "network":
    case "timeout":
    case "busy":
    case "disk_full":
      return canRetry
        ? { kind: "retry", label: "Try again" }
        : { kind: "dismiss", label: "Dismiss" };
    default:
      return { kind: "dismiss", label: "Dismiss" };
  }
}
