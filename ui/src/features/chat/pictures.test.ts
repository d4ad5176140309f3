import { describe, expect, it, vi } from "vitest";
import { KEPT_PICTURES, keptPicture, pictureRead } from "./pictures";

const content = (n: number) => ({ mime: "image/png", dataBase64: `P${n}` });

describe("the pictures of sent messages", () => {
  it("reads each once, however many messages ask at once or later", async () => {
    const read = vi.fn(async () => content(1));
    const [a, b] = await Promise.all([pictureRead(1, read), pictureRead(1, read)]);
    expect([a, b]).toEqual(["data:image/png;base64,P1", "data:image/png;base64,P1"]);
    expect(await pictureRead(1, read)).toBe("data:image/png;base64,P1");
    expect(read).toHaveBeenCalledTimes(1);
    expect(keptPicture(1)).toBe("data:image/png;base64,P1");
  });

  it("keeps the most recently shown, and forgets the oldest beyond its bound", async () => {
    for (let id = 100; id < 100 + KEPT_PICTURES; id++) {
      await pictureRead(id, async () => content(id));
    }
    // Shown again: no longer the oldest.
    expect(keptPicture(100)).toBeDefined();
    await pictureRead(999, async () => content(999));
    expect(keptPicture(100)).toBeDefined();
    expect(keptPicture(101)).toBeUndefined();
  });

  it("reads again a picture whose reading failed", async () => {
    const failing = vi.fn().mockRejectedValueOnce(new Error("gone")).mockResolvedValue(content(5));
    await expect(pictureRead(5, failing)).rejects.toThrow("gone");
    expect(await pictureRead(5, failing)).toBe("data:image/png;base64,P5");
  });
});
