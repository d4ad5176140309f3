import { beforeEach, describe, expect, it, vi } from "vitest";
import type { AvailableUpdate, IpcError, UpdateProgress } from "../../lib/ipc";
import { UpdateState } from "./updates.svelte";

const ipc = vi.hoisted(() => ({ updateCheck: vi.fn(), updateInstall: vi.fn() }));
const announce = vi.hoisted(() => ({ handler: null as ((offer: AvailableUpdate) => void) | null }));

vi.mock("../../lib/ipc", () => ({
  ipc,
  notices: {
    onUpdateAvailable: vi.fn(async (handler: (offer: AvailableUpdate) => void) => {
      announce.handler = handler;
      return () => {};
    }),
  },
  asIpcError: (e: unknown) => e as IpcError,
}));

const next: AvailableUpdate = { version: "0.2.0", notes: "Faster search.", date: "2026-12-01" };

beforeEach(() => {
  vi.clearAllMocks();
  announce.handler = null;
});

describe("UpdateState", () => {
  it("offers what the daily check announced, until the banner is acknowledged", async () => {
    const updates = new UpdateState();
    await updates.follow();
    announce.handler!(next);
    expect(updates.announced).toEqual(next);
    expect(updates.step).toEqual({ step: "offered", offer: next });
    updates.acknowledge();
    expect(updates.announced).toBeNull();
    // Still offered in About: acknowledging hides the banner only.
    expect(updates.step).toEqual({ step: "offered", offer: next });
  });

  it("an announcement during an install does not interrupt it", async () => {
    let report: (p: UpdateProgress) => void = () => {};
    let finish: () => void = () => {};
    ipc.updateInstall.mockImplementation((onProgress: (p: UpdateProgress) => void) => {
      report = onProgress;
      return new Promise<void>((resolve) => (finish = resolve));
    });
    const updates = new UpdateState();
    await updates.follow();
    const installing = updates.install(next);
    report({ downloaded: 500, total: 1000 });
    announce.handler!({ ...next, version: "0.2.1" });
    expect(updates.step).toEqual({ step: "installing", offer: next, percent: 50 });
    expect(updates.announced).toBeNull();
    finish();
    await installing;
    expect(updates.step).toEqual({ step: "restarting", offer: next });
  });

  it("a failed check says why and goes back to idle; a refused install stays offered", async () => {
    const updates = new UpdateState();
    ipc.updateCheck.mockRejectedValue({
      code: "network",
      message: "Tally could not reach its update server.",
    });
    await updates.check();
    expect(updates.step).toEqual({ step: "idle" });
    expect(updates.problem).toContain("could not reach");
    ipc.updateCheck.mockResolvedValue({ current: "0.1.0", available: next });
    await updates.check();
    expect(updates.problem).toBe("");
    ipc.updateInstall.mockRejectedValue({ code: "update_failed", message: "not signed" });
    await updates.install(next);
    expect(updates.step).toEqual({ step: "offered", offer: next });
    expect(updates.problem).toBe("not signed");
  });
});
