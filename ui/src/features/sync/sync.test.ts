import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { IpcError, SyncView } from "../../lib/ipc";
import SyncSettings from "./SyncSettings.svelte";
import { SyncState, ago, statusWords } from "./sync.svelte";

const ipc = vi.hoisted(() => ({
  syncGet: vi.fn(),
  syncEnable: vi.fn(),
  syncDisable: vi.fn(),
  syncNow: vi.fn(),
}));
const changes = vi.hoisted(() => ({ handler: null as ((view: SyncView) => void) | null }));

vi.mock("../../lib/ipc", () => ({
  ipc,
  notices: {
    onSyncChanged: vi.fn(async (handler: (view: SyncView) => void) => {
      changes.handler = handler;
      return () => (changes.handler = null);
    }),
  },
  asIpcError: (e: unknown) => e as IpcError,
}));

const NOW = Date.UTC(2026, 10, 30, 12);

function view(over: Partial<SyncView> = {}): SyncView {
  return {
    status: "off",
    location: null,
    lastSyncAt: null,
    lastResult: null,
    problem: null,
    devices: [
      { name: "This computer", thisComputer: true, lastSeen: null, spentNanos: 0, requests: 0 },
    ],
    overshoot: null,
    received: 0,
    ...over,
  };
}

const idle = view({
  status: "idle",
  location: { kind: "folder", path: "/home/me/Dropbox/Tally" },
  lastSyncAt: NOW - 3 * 60_000,
  lastResult: "Sent 4 changes; received 2 messages.",
  received: 2,
});

beforeEach(() => {
  vi.clearAllMocks();
  changes.handler = null;
});

describe("the status line", () => {
  it.each([
    [view(), "Sync is off."],
    [view({ status: "syncing" }), "Syncing…"],
    [
      view({ status: "error", problem: "The sync storage is full." }),
      "The last sync failed: The sync storage is full.",
    ],
    [idle, "Last synced 3 minutes ago. Sent 4 changes; received 2 messages."],
  ])("%#: says how sync stands", (v, words) => {
    expect(statusWords(v, NOW)).toBe(words);
  });

  it.each([
    [10_000, "just now"],
    [60_000, "a minute ago"],
    [45 * 60_000, "45 minutes ago"],
    [3 * 3_600_000, "3 hours ago"],
    [26 * 3_600_000, "yesterday"],
    [30 * 86_400_000, "30 days ago"],
  ])("%i ms ago reads as %s", (ms, words) => {
    expect(ago(NOW - ms, NOW)).toBe(words);
  });
});

describe("SyncState", () => {
  it("reads the lists again once per sync that brought something", async () => {
    const sync = new SyncState();
    const received = vi.fn();
    await sync.follow(received);
    changes.handler!(view({ status: "syncing" }));
    changes.handler!(idle);
    // The same sync's view again (Settings asked for it): not read twice.
    changes.handler!(idle);
    expect(received).toHaveBeenCalledTimes(1);
    changes.handler!({ ...idle, lastSyncAt: NOW, received: 0 });
    expect(received).toHaveBeenCalledTimes(1);
    changes.handler!({ ...idle, lastSyncAt: NOW + 1, received: 3 });
    expect(received).toHaveBeenCalledTimes(2);
  });

  it("keeps a refused passphrase's words and shows how sync stands", async () => {
    ipc.syncEnable.mockRejectedValue({
      code: "sync_wrong_passphrase",
      message: "This passphrase does not open the sync storage.",
    });
    ipc.syncGet.mockResolvedValue(view());
    const sync = new SyncState();
    expect(await sync.enable({ kind: "folder", path: "/x" }, "wrong one")).toBe(false);
    expect(sync.problem).toBe("This passphrase does not open the sync storage.");
    expect(sync.view?.status).toBe("off");
    expect(sync.working).toBe(false);
  });
});

describe("SyncSettings", () => {
  it("turns sync on with the place and passphrase typed, and then offers Sync now", async () => {
    ipc.syncGet.mockResolvedValue(view());
    ipc.syncEnable.mockResolvedValue(idle);
    ipc.syncNow.mockResolvedValue({ ...idle, lastSyncAt: NOW });
    const sync = new SyncState();
    render(SyncSettings, { sync });
    await waitFor(() => expect(screen.getByTestId("sync-status").dataset.status).toBe("off"));
    await fireEvent.input(screen.getByTestId("sync-location-input"), {
      target: { value: "/home/me/Dropbox/Tally" },
    });
    await fireEvent.input(screen.getByTestId("sync-passphrase-input"), {
      target: { value: "correct horse battery" },
    });
    await fireEvent.click(screen.getByTestId("sync-enable"));

    await waitFor(() => expect(screen.getByTestId("sync-status").dataset.status).toBe("idle"));
    expect(ipc.syncEnable).toHaveBeenCalledWith({
      location: { kind: "folder", path: "/home/me/Dropbox/Tally" },
      passphrase: "correct horse battery",
    });
    expect(screen.getByTestId("sync-status").textContent).toContain("Sent 4 changes");
    await fireEvent.click(screen.getByTestId("sync-now"));
    expect(ipc.syncNow).toHaveBeenCalledOnce();
  });

  it("asks WebDAV's address and sign-in, and sends no empty password", async () => {
    ipc.syncGet.mockResolvedValue(view());
    ipc.syncEnable.mockResolvedValue(idle);
    const sync = new SyncState();
    render(SyncSettings, { sync });
    await fireEvent.click(screen.getByLabelText(/A WebDAV server/));
    await fireEvent.input(screen.getByTestId("sync-location-input"), {
      target: { value: "https://cloud.example.com/dav/Tally" },
    });
    await fireEvent.input(screen.getByLabelText("User name"), { target: { value: "me" } });
    await fireEvent.input(screen.getByTestId("sync-passphrase-input"), {
      target: { value: "correct horse battery" },
    });
    await fireEvent.click(screen.getByTestId("sync-enable"));
    await waitFor(() => expect(ipc.syncEnable).toHaveBeenCalled());
    expect(ipc.syncEnable.mock.calls[0][0].location).toEqual({
      kind: "webDav",
      url: "https://cloud.example.com/dav/Tally",
      username: "me",
    });
  });

  it("lists each computer's spending and how far they can overshoot together", async () => {
    ipc.syncGet.mockResolvedValue({
      ...idle,
      devices: [
        {
          name: "This computer",
          thisComputer: true,
          lastSeen: null,
          spentNanos: 1_500_000_000,
          requests: 12,
        },
        {
          name: "laptop",
          thisComputer: false,
          lastSeen: NOW - 60_000,
          spentNanos: 2_250_000_000,
          requests: 30,
        },
      ],
      overshoot: "If all 2 spend while offline, together they can pass the budget by up to $16.25.",
    });
    const sync = new SyncState();
    render(SyncSettings, { sync });
    await waitFor(() => expect(screen.getAllByTestId("sync-device")).toHaveLength(2));
    const rows = screen.getAllByTestId("sync-device").map((row) => row.textContent);
    expect(rows[1]).toContain("laptop");
    expect(rows[1]).toContain("$2.25");
    expect(screen.getByTestId("sync-overshoot").textContent).toContain("$16.25");
  });
});
