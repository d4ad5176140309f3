// Test helpers of the tools feature.
import type { ToolCallView } from "../../lib/ipc";

/** A call of mcp-server-time's `get_current_time`, pending unless `over` says otherwise. */
export function toolCall(over: Partial<ToolCallView> = {}): ToolCallView {
  return {
    id: "call_1",
    round: 0,
    textOffset: 0,
    server: "time",
    tool: "get_current_time",
    function: "get_current_time",
    arguments: "{}",
    status: "pending",
    result: null,
    durationMs: null,
    readOnly: false,
    destructive: true,
    ...over,
  };
}
