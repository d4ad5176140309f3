// The draft's attachments: files chosen, pasted or dropped, kept by the engine (scaled and
// stripped), each with what it adds to the request, until the message is sent.
import { base64Of } from "../../lib/base64";
import { asIpcError, ipc } from "../../lib/ipc";
import type { AddedAttachment, AttachmentRef, AttachmentView } from "../../lib/ipc";

/** Files larger than any the engine takes (a PDF, up to 50 MB) are not read at all; the
 * engine holds each kind to its own bound. */
export const MAX_READ_BYTES = 50_000_000;

export interface DraftAttachment {
  attachment: AttachmentView;
  /** Input tokens for the model the draft goes to (updated when the model changes). */
  tokens: number;
  costNanos: number | null;
  /** The kept picture (`data:`), for the chip's thumbnail; `null` until read, and for files. */
  preview: string | null;
}

export class DraftAttachments {
  list = $state<DraftAttachment[]>([]);
  /** Why the last file could not be attached, in words (the typed text stays). */
  problem = $state("");
  /** Files being read and prepared. */
  pending = $state(0);
  /** Why the attachments cannot go to the model chosen now (a picture for a model that
   * takes none), from the estimate. */
  modelProblem = $state<string | null>(null);
  /** A PDF just refused for having no text (a scan): its pages may go as pictures. */
  scan = $state<File | null>(null);

  get refs(): AttachmentRef[] {
    return this.list.map(({ attachment }) => ({ id: attachment.id, name: attachment.name }));
  }

  /** Attaches `files` for a message to `model`, one after another, in order. */
  async add(files: Iterable<File>, model: string) {
    this.problem = "";
    this.scan = null;
    for (const file of files) {
      if (file.size > MAX_READ_BYTES) {
        this.problem = `${file.name} is too large to attach (${Math.round(file.size / 1_000_000)} MB).`;
        continue;
      }
      this.pending++;
      try {
        const data = await this.#read(file);
        if (data === null) continue;
        const added = await ipc.attachmentAdd(
          { name: file.name || "pasted picture", dataBase64: data },
          model,
        );
        this.#keep(added);
      } catch (e) {
        const error = asIpcError(e);
        this.problem = `${file.name}: ${error.message}`;
        if (error.code === "pdf_without_text") this.scan = file;
      } finally {
        this.pending--;
      }
    }
  }

  /** Attaches the pages of the scan just refused, as pictures for a message to `model`. */
  async addScanPages(model: string) {
    const file = this.scan;
    if (!file) return;
    this.scan = null;
    this.problem = "";
    this.pending++;
    try {
      const data = await this.#read(file);
      if (data === null) return;
      const pages = await ipc.attachmentAddPdfPages({ name: file.name, dataBase64: data }, model);
      for (const page of pages) this.#keep(page);
    } catch (e) {
      this.problem = `${file.name}: ${asIpcError(e).message}`;
    } finally {
      this.pending--;
    }
  }

  /** `file`'s content in base64; `null`, said in words, when it can no longer be read
   * (moved or deleted since it was chosen). */
  async #read(file: File): Promise<string | null> {
    try {
      return await base64Of(file);
    } catch {
      this.problem = `${file.name} could not be read: it may have been moved or deleted since you chose it. Choose it again.`;
      return null;
    }
  }

  #keep(added: AddedAttachment) {
    if (this.list.some((d) => d.attachment.id === added.attachment.id)) return;
    this.list.push({
      attachment: added.attachment,
      tokens: added.tokens,
      costNanos: added.costNanos,
      preview: null,
    });
    if (added.attachment.kind === "image") void this.#preview(added.attachment.id);
  }

  /** Shows the picture as it will be sent (upright, scaled, without metadata). */
  async #preview(id: number) {
    try {
      const content = await ipc.attachmentContent(id);
      const draft = this.list.find((d) => d.attachment.id === id);
      if (draft) draft.preview = `data:${content.mime};base64,${content.dataBase64}`;
    } catch {
      // The chip shows an icon instead.
    }
  }

  remove(id: number) {
    const at = this.list.findIndex((d) => d.attachment.id === id);
    if (at < 0) return;
    this.list.splice(at, 1);
    this.problem = "";
    this.scan = null;
  }

  /** The estimate's count of each, for the model the draft now goes to, and why they
   * could not go to it. */
  counted(tokens: number[], problem: string | null) {
    tokens.forEach((count, i) => {
      const draft = this.list[i];
      if (!draft || draft.tokens === count) return;
      // Another model: its price is in the estimate's total, not known per attachment.
      draft.tokens = count;
      draft.costNanos = null;
    });
    this.modelProblem = problem;
  }

  /** The message was sent with them: the draft starts empty again. */
  clear() {
    this.list = [];
    this.problem = "";
    this.modelProblem = null;
    this.scan = null;
  }
}
