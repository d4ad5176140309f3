// Tauri's isolation application: every IPC message from the window passes through this
// sandboxed frame, which encrypts it with a key made at launch, so only the window's own
// page can reach Tally's commands. The commands themselves are gated by the capability;
// here a message must at least name a command the way the UI names them.
const COMMAND =
  /^(?:[a-z][a-z_]*|plugin:event\|(?:listen|unlisten)|plugin:__TAURI_CHANNEL__\|fetch)$/;

window.__TAURI_ISOLATION_HOOK__ = (payload) => {
  if (typeof payload?.cmd === "string" && !COMMAND.test(payload.cmd)) {
    throw new Error(`Tally does not send ${payload.cmd}`);
  }
  return payload;
};
