import { beforeEach, describe, expect, it, vi } from "vitest";
import type { AttachmentView, IpcError } from "../../lib/ipc";
import { DraftAttachments, MAX_READ_BYTES } from "./attachments.svelte";

const ipc = vi.hoisted(() => ({
  attachmentAdd: vi.fn(),
  attachmentAddPdfPages: vi.fn(),
  attachmentContent: vi.fn(),
}));
vi.mock("../../lib/ipc", () => ({ ipc, asIpcError: (e: unknown) => e as IpcError }));

function kept(id: number, name: string, kind: AttachmentView["kind"] = "image"): AttachmentView {
  return {
    id,
    kind,
    name,
    mime: "image/jpeg",
    sizeBytes: 1000,
    width: 10,
    height: 10,
    pages: null,
  };
}

beforeEach(() => {
  vi.clearAllMocks();
  ipc.attachmentContent.mockResolvedValue({ mime: "image/jpeg", dataBase64: "AAAA" });
});

describe("the draft's attachments", () => {
  it("attaches files in order, once each, and says why one was refused", async () => {
    ipc.attachmentAdd
      .mockResolvedValueOnce({ attachment: kept(1, "a.jpg"), tokens: 255, costNanos: 40 })
      .mockRejectedValueOnce({ code: "attachment_refused", message: "This file is empty." })
      .mockResolvedValueOnce({ attachment: kept(1, "a-again.jpg"), tokens: 255, costNanos: 40 })
      .mockResolvedValueOnce({ attachment: kept(2, "b.csv", "file"), tokens: 20, costNanos: 3 });
    const draft = new DraftAttachments();
    const files = ["a.jpg", "empty.txt", "a-again.jpg", "b.csv"].map(
      (name) => new File(["x"], name),
    );
    await draft.add(files, "gpt-4o");
    expect(draft.list.map((d) => d.attachment.name)).toEqual(["a.jpg", "b.csv"]);
    expect(draft.problem).toBe("empty.txt: This file is empty.");
    expect(ipc.attachmentAdd).toHaveBeenCalledWith({ name: "a.jpg", dataBase64: "eA==" }, "gpt-4o");
    expect(draft.refs).toEqual([
      { id: 1, name: "a.jpg" },
      { id: 2, name: "b.csv" },
    ]);
    expect(draft.pending).toBe(0);
  });

  it("says so when a chosen file can no longer be read, and goes on with the others", async () => {
    ipc.attachmentAdd.mockResolvedValueOnce({
      attachment: kept(3, "b.png"),
      tokens: 85,
      costNanos: 9,
    });
    const gone = new File(["x"], "moved.png");
    // What the browser does with a file deleted after it was chosen: its reading fails.
    const reader = vi.spyOn(FileReader.prototype, "readAsDataURL").mockImplementationOnce(function (
      this: FileReader,
    ) {
      this.dispatchEvent(new ProgressEvent("error"));
    });
    const draft = new DraftAttachments();
    await draft.add([gone, new File(["y"], "b.png")], "gpt-4o");
    reader.mockRestore();
    expect(draft.problem).toBe(
      "moved.png could not be read: it may have been moved or deleted since you chose it. Choose it again.",
    );
    expect(draft.list.map((d) => d.attachment.name)).toEqual(["b.png"]);
    expect(ipc.attachmentAdd).toHaveBeenCalledTimes(1);
    expect(draft.pending).toBe(0);
  });

  it("does not read a file far over every limit", async () => {
    const draft = new DraftAttachments();
    const huge = new File(["x"], "video.mov");
    Object.defineProperty(huge, "size", { value: MAX_READ_BYTES + 1 });
    await draft.add([huge], "gpt-4o");
    expect(ipc.attachmentAdd).not.toHaveBeenCalled();
    expect(draft.problem).toContain("video.mov is too large");
  });

  it("offers a scan's pages as pictures, and attaches them when asked", async () => {
    ipc.attachmentAdd.mockRejectedValueOnce({
      code: "pdf_without_text",
      message: "This PDF has no text in it (2 pages of pictures: a scan, probably).",
    });
    ipc.attachmentAddPdfPages.mockResolvedValueOnce([
      { attachment: kept(7, "letter, page 1 of 2.jpg"), tokens: 1105, costNanos: 2762500 },
      { attachment: kept(8, "letter, page 2 of 2.jpg"), tokens: 1105, costNanos: 2762500 },
    ]);
    const draft = new DraftAttachments();
    const letter = new File(["%PDF"], "letter.pdf");
    await draft.add([letter], "gpt-4o");
    expect(draft.scan).toBe(letter);
    expect(draft.problem).toContain("letter.pdf: This PDF has no text");
    await draft.addScanPages("gpt-4o");
    expect(ipc.attachmentAddPdfPages).toHaveBeenCalledWith(
      { name: "letter.pdf", dataBase64: "JVBERg==" },
      "gpt-4o",
    );
    expect(draft.list.map((d) => d.attachment.name)).toEqual([
      "letter, page 1 of 2.jpg",
      "letter, page 2 of 2.jpg",
    ]);
    expect([draft.scan, draft.problem, draft.pending]).toEqual([null, "", 0]);

    // Another refusal is not a scan: nothing is offered.
    ipc.attachmentAdd.mockRejectedValueOnce({ code: "attachment_refused", message: "Empty." });
    await draft.add([new File([""], "empty.txt")], "gpt-4o");
    expect(draft.scan).toBeNull();
  });

  it("takes the estimate's counts for another model, without a stale price", async () => {
    ipc.attachmentAdd.mockResolvedValueOnce({
      attachment: kept(1, "a.jpg"),
      tokens: 255,
      costNanos: 40,
    });
    const draft = new DraftAttachments();
    await draft.add([new File(["x"], "a.jpg")], "gpt-4o");
    draft.counted([255], null);
    expect(draft.list[0].costNanos).toBe(40);
    draft.counted([1229], "o3-mini cannot see pictures.");
    expect(draft.list[0]).toMatchObject({ tokens: 1229, costNanos: null });
    expect(draft.modelProblem).toBe("o3-mini cannot see pictures.");
    draft.clear();
    expect(draft.list).toEqual([]);
    expect(draft.modelProblem).toBeNull();
  });
});
