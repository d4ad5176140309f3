import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../lib/ipc";
import { errorAction } from "./errorAction";

describe("errorAction", () => {
  const cases: [ErrorCode, boolean, string][] = [
    ["missing_api_key", false, "Open Settings"],
    ["invalid_api_key", true, "Open Settings"],
    ["keychain_unavailable", false, "Open Settings"],
    ["key_not_sent", true, "Check the API address"],
    ["model_not_found", true, "Pick another model"],
    ["context_too_long", true, "Start a new chat"],
    ["quota_exhausted", true, "Open OpenAI billing"],
    ["rate_limited", true, "Try again"],
    ["server_error", true, "Try again"],
    ["network", true, "Try again"],
    ["network", false, "Dismiss"],
    ["timeout", true, "Try again"],
    ["invalid_input", true, "Dismiss"],
    ["not_found", true, "Dismiss"],
    ["file_failed", true, "Dismiss"],
    ["storage", true, "Dismiss"],
    ["busy", true, "Try again"],
    ["busy", false, "Dismiss"],
    ["disk_full", true, "Try again"],
    ["internal", true, "Dismiss"],
  ];
  it.each(cases)("%s (retry possible: %s) offers %s", (code, canRetry, label) => {
    expect(errorAction(code, canRetry).label).toBe(label);
  });
});
