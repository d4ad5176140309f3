// The pictures of sent messages, read once: a long conversation shows each again and again
// as it scrolls (messages out of view leave the page), and a picture is up to 2048×2048.

import type { AttachmentContent } from "../../lib/ipc";

/** How many pictures are kept read (the most recently shown), about 100 MB at worst. */
export const KEPT_PICTURES = 60;

const kept = new Map<number, string>();
const reading = new Map<number, Promise<string>>();

/** Picture `id` as a `data:` address, if it was read and is still kept. */
export function keptPicture(id: number): string | undefined {
  const url = kept.get(id);
  if (url !== undefined) {
    // Shown again: the most recent now.
    kept.delete(id);
    kept.set(id, url);
  }
  return url;
}

/** Picture `id` as a `data:` address, read with `read` unless it is kept or being read. */
export function pictureRead(id: number, read: () => Promise<AttachmentContent>): Promise<string> {
  const url = keptPicture(id);
  if (url !== undefined) return Promise.resolve(url);
  let pending = reading.get(id);
  if (!pending) {
    pending = read()
      .then((content) => {
        const url = `data:${content.mime};base64,${content.dataBase64}`;
        kept.set(id, url);
        while (kept.size > KEPT_PICTURES) kept.delete(kept.keys().next().value!);
        return url;
      })
      .finally(() => reading.delete(id));
    reading.set(id, pending);
  }
  return pending;
}
