import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { BackupView, IpcError } from "../../lib/ipc";
import StorageNotice from "../history/StorageNotice.svelte";
import Backups from "./Backups.svelte";

const ipc = vi.hoisted(() => ({
  backupList: vi.fn(),
  backupCreate: vi.fn(),
  backupRestore: vi.fn(),
  recoveryGet: vi.fn(),
  recoveryDismiss: vi.fn(),
}));
const storageProblem = vi.hoisted(() => ({ handler: null as ((m: string) => void) | null }));

vi.mock("../../lib/ipc", () => ({
  ipc,
  notices: {
    onStorageProblem: vi.fn(async (handler: (m: string) => void) => {
      storageProblem.handler = handler;
      return () => {};
    }),
  },
  asIpcError: (e: unknown) => e as IpcError,
}));

function backup(name: string, kind: BackupView["kind"], sizeBytes = 2_500_000): BackupView {
  return { name, createdAt: Date.UTC(2026, 10, 22, 13, 0), kind, upgradeTo: null, sizeBytes };
}

beforeEach(() => {
  vi.clearAllMocks();
  ipc.backupList.mockResolvedValue([
    backup("tally-2-daily.sqlite3", "daily"),
    backup("tally-1-before-v5.sqlite3", "before_upgrade", 4096),
  ]);
});

describe("Backups", () => {
  it("lists backups and restores one only after a confirmation", async () => {
    const onRestored = vi.fn();
    render(Backups, { onRestored });
    const items = await screen.findAllByTestId("backup-item");
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain("Daily · 2.4 MB");
    expect(items[1].textContent).toContain("Before an update · 4 KB");

    await fireEvent.click(screen.getAllByTestId("backup-restore")[1]);
    expect(ipc.backupRestore).not.toHaveBeenCalled();
    ipc.backupRestore.mockResolvedValue(backup("tally-1-before-v5.sqlite3", "before_upgrade"));
    await fireEvent.click(screen.getByTestId("backup-restore-confirm"));
    expect(ipc.backupRestore).toHaveBeenCalledWith("tally-1-before-v5.sqlite3");
    await waitFor(() => expect(onRestored).toHaveBeenCalled());
  });

  it("says, when sync is on, that what was synced since the backup comes back", async () => {
    const first = render(Backups, { onRestored: vi.fn() });
    await fireEvent.click((await screen.findAllByTestId("backup-restore"))[0]);
    expect(screen.queryByTestId("backup-restore-sync-note")).toBeNull();
    first.unmount();

    render(Backups, { onRestored: vi.fn(), syncing: true });
    await fireEvent.click((await screen.findAllByTestId("backup-restore"))[0]);
    expect(screen.getByTestId("backup-restore-sync-note").textContent).toContain("comes back here");
  });

  it("says why a restore was refused and restores nothing", async () => {
    const onRestored = vi.fn();
    render(Backups, { onRestored });
    await fireEvent.click((await screen.findAllByTestId("backup-restore"))[0]);
    ipc.backupRestore.mockRejectedValue({
      code: "invalid_input",
      message: "Wait for the reply to finish (or stop it), then restore the backup.",
    });
    await fireEvent.click(screen.getByTestId("backup-restore-confirm"));
    expect((await screen.findByRole("status")).textContent).toContain("Wait for the reply");
    expect(onRestored).not.toHaveBeenCalled();
  });

  it("backs up now and shows the new backup", async () => {
    render(Backups, { onRestored: () => {} });
    await screen.findAllByTestId("backup-item");
    ipc.backupCreate.mockResolvedValue(backup("tally-3-manual.sqlite3", "manual"));
    ipc.backupList.mockResolvedValue([
      backup("tally-3-manual.sqlite3", "manual"),
      backup("tally-2-daily.sqlite3", "daily"),
    ]);
    await fireEvent.click(screen.getByTestId("backup-create"));
    await waitFor(() =>
      expect(screen.getAllByTestId("backup-item")[0].textContent).toContain("Made by you"),
    );
  });
});

describe("StorageNotice", () => {
  it("tells what a recovery restored until it is dismissed", async () => {
    ipc.recoveryGet.mockResolvedValue({
      message: "Tally's database file was damaged, so Tally restored its backup from …",
      damagedCopy: "/data/damaged/tally-1.sqlite3",
    });
    ipc.recoveryDismiss.mockResolvedValue(undefined);
    render(StorageNotice);
    const notice = await screen.findByTestId("recovery-notice");
    expect(notice.textContent).toContain("restored its backup");
    expect(notice.textContent).toContain("/data/damaged/tally-1.sqlite3");
    await fireEvent.click(screen.getByTestId("recovery-dismiss"));
    expect(ipc.recoveryDismiss).toHaveBeenCalled();
    expect(screen.queryByTestId("recovery-notice")).toBeNull();
  });

  it("shows damage found while the app runs", async () => {
    ipc.recoveryGet.mockResolvedValue(null);
    render(StorageNotice);
    await waitFor(() => expect(storageProblem.handler).not.toBeNull());
    expect(screen.queryByTestId("recovery-notice")).toBeNull();
    storageProblem.handler?.("Tally found damage in its database file. Restart Tally…");
    expect((await screen.findByTestId("recovery-notice")).textContent).toContain("Restart Tally");
  });
});
