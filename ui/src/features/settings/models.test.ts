import { describe, expect, it } from "vitest";
import type { ModelView } from "../../lib/ipc";
import { modelGroups, optionLabel } from "./models";

function model(id: string, priceWords: string | null): ModelView {
  return {
    id,
    known: priceWords !== null,
    priceWords,
    reasoning: false,
    efforts: [],
    responsesOnly: false,
    contextWindow: null,
  };
}

const list = [
  model("gpt-5.4-mini", "$0.75 in, $4.50 out per million tokens"),
  model("gpt-4o", "$2.50 in, $10.00 out per million tokens"),
  model("brand-new-model", null),
];

describe("modelGroups", () => {
  it("puts known models first and the ones without a price apart", () => {
    const groups = modelGroups("gpt-4o", list);
    expect(groups.known.map((m) => m.id)).toEqual(["gpt-5.4-mini", "gpt-4o"]);
    expect(groups.other.map((m) => m.id)).toEqual(["brand-new-model"]);
  });

  it("always offers the current choice, even when the list lacks it", () => {
    const groups = modelGroups("my-local-model", list);
    expect(groups.other.map((m) => m.id)).toEqual(["brand-new-model", "my-local-model"]);
    expect(modelGroups("my-local-model", []).other.map((m) => m.id)).toEqual(["my-local-model"]);
  });

  it("labels a known model with its price in words and an unknown one by its id", () => {
    expect(optionLabel(list[0])).toBe("gpt-5.4-mini — $0.75 in, $4.50 out per million tokens");
    expect(optionLabel(list[2])).toBe("brand-new-model");
  });
});
