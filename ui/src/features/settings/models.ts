import type { ModelView } from "../../lib/ipc";

/** A picker's options: the models Tally knows (with their price), then the rest apart. */
export type ModelGroups = { known: ModelView[]; other: ModelView[] };

/**
 * Groups the engine's list of models for a picker. The current choice is always an
 * option, even when the list lacks it (a model typed before, or a key that lost it).
 */
export function modelGroups(current: string, models: ModelView[]): ModelGroups {
  const listed = !current || models.some((m) => m.id === current);
  const all = listed ? models : [...models, unlisted(current)];
  return { known: all.filter((m) => m.known), other: all.filter((m) => !m.known) };
}

/** What an option reads: the id, and for a known model its price in words. */
export function optionLabel(model: ModelView): string {
  return model.priceWords ? `${model.id} — ${model.priceWords}` : model.id;
}

const EFFORT_WORDS: Record<string, string> = {
  none: "None: answers at once, cheapest",
  minimal: "Minimal: a moment's thought",
  low: "Low: a little thinking, a little more cost",
  medium: "Medium: thinks it through",
  high: "High: thinks longer, costs more",
  xhigh: "Extra high: thinks longest, costs most",
};

/** A reasoning effort in plain words, with what it means for the cost. */
export function effortWords(effort: string): string {
  return EFFORT_WORDS[effort] ?? effort;
}

function unlisted(id: string): ModelView {
  return {
    id,
    known: false,
    priceWords: null,
    reasoning: false,
    efforts: [],
    responsesOnly: false,
    contextWindow: null,
  };
}
