// The models offered in a picker: the key's own list once tested, else a few common ones,
// always with the current choice first.
const FALLBACK = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1", "gpt-5-mini", "o4-mini"];

export function modelChoices(current: string, models: string[]): string[] {
  return [...new Set([current, ...(models.length ? models : FALLBACK)])];
}
