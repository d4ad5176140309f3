import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { IpcError, ModelView, PersonaView } from "../../lib/ipc";
import ChatSettingsDialog from "../chat/ChatSettingsDialog.svelte";
import { DEFAULT_CHAT_SETTINGS, newChatState } from "../chat/testing";
import Personas from "./Personas.svelte";

const ipc = vi.hoisted(() => ({
  chatSend: vi.fn(),
  conversationGet: vi.fn(),
  conversationList: vi.fn(async () => ({ pinned: [], recent: [], next: null })),
  conversationSettingsSet: vi.fn(),
  // The engine's check of a new chat's settings: these tests' settings are all good.
  conversationSettingsCheck: vi.fn(async (settings: unknown) => settings),
  modelsList: vi.fn(),
  personaList: vi.fn(),
  personaSave: vi.fn(),
  personaDelete: vi.fn(),
}));

vi.mock("../../lib/ipc", () => ({ ipc, asIpcError: (e: unknown) => e as IpcError }));

const personas: PersonaView[] = [
  { id: 1, name: "Concise", prompt: "Answer briefly." },
  { id: 2, name: "Patient teacher", prompt: "Explain step by step." },
];

const defaults = DEFAULT_CHAT_SETTINGS;

const listed: ModelView[] = [
  {
    id: "gpt-5.4-mini",
    known: true,
    priceWords: "$0.75 in, $4.50 out per million tokens",
    reasoning: true,
    efforts: ["none", "low", "medium", "high", "xhigh"],
    responsesOnly: false,
    contextWindow: 400_000,
  },
  {
    id: "tomorrows-model",
    known: false,
    priceWords: null,
    reasoning: false,
    efforts: [],
    responsesOnly: false,
    contextWindow: null,
  },
];

beforeEach(() => {
  vi.clearAllMocks();
  ipc.personaList.mockResolvedValue(personas);
  ipc.modelsList.mockResolvedValue({
    models: listed,
    fromKey: true,
    checkedOn: "2026-11-29",
    webSearch: { maxCalls: 3, feeNanos: 10_000_000 },
  });
});

describe("chat settings", () => {
  it("a reasoning model's thinking effort is offered in words and saved", async () => {
    const chat = newChatState();
    render(ChatSettingsDialog, { chat, defaults, onClose: () => {} });
    const picker = (await screen.findByTestId("chat-model")) as HTMLSelectElement;
    await waitFor(() => expect(picker.options.length).toBe(3));
    // gpt-4o-mini (the default here) does not reason: no effort to choose.
    expect(screen.queryByTestId("reasoning-effort")).toBeNull();
    await fireEvent.change(picker, { target: { value: "gpt-5.4-mini" } });
    const effort = (await screen.findByTestId("reasoning-effort")) as HTMLSelectElement;
    expect([...effort.options].map((o) => o.value)).toEqual([
      "",
      "none",
      "low",
      "medium",
      "high",
      "xhigh",
    ]);
    expect(effort.options[4].textContent).toBe("High: thinks longer, costs more");
    await fireEvent.change(effort, { target: { value: "high" } });
    await fireEvent.click(screen.getByTestId("chat-settings-save"));
    await waitFor(() => expect(chat.pendingSettings?.options.reasoningEffort).toBe("high"));
    expect(chat.pendingSettings?.model).toBe("gpt-5.4-mini");
  });

  it("web search is switched on per chat, with what each search costs in words", async () => {
    const chat = newChatState();
    render(ChatSettingsDialog, { chat, defaults, onClose: () => {} });
    const toggle = (await screen.findByTestId("web-search-toggle")) as HTMLInputElement;
    expect(toggle.checked).toBe(false);
    await waitFor(() =>
      expect(document.body.textContent).toContain("Up to 3 searches per reply, $0.01 each"),
    );
    await fireEvent.click(toggle);
    await fireEvent.click(screen.getByTestId("chat-settings-save"));
    await waitFor(() => expect(chat.pendingSettings?.options.webSearch).toBe(true));
  });

  it("offers the engine's models: known ones with their price, the others apart", async () => {
    render(ChatSettingsDialog, { chat: newChatState(), defaults, onClose: () => {} });
    const picker = (await screen.findByTestId("chat-model")) as HTMLSelectElement;
    await waitFor(() => expect(picker.options.length).toBe(3));
    const options = [...picker.options].map((o) => [o.value, o.textContent?.trim()]);
    expect(options).toEqual([
      ["gpt-5.4-mini", "gpt-5.4-mini — $0.75 in, $4.50 out per million tokens"],
      ["tomorrows-model", "tomorrows-model"],
      [defaults.model, defaults.model],
    ]);
    expect(picker.querySelector("optgroup")?.label).toBe("Other models (price unknown)");
    expect(picker.value).toBe(defaults.model);
  });

  it("a new chat takes the persona and options chosen before its first message", async () => {
    const chat = newChatState();
    render(ChatSettingsDialog, { chat, defaults, onClose: () => {} });
    const persona = (await screen.findByTestId("chat-persona")) as HTMLSelectElement;
    await waitFor(() => expect(persona.options.length).toBe(3));
    await fireEvent.change(persona, { target: { value: "2" } });
    expect((screen.getByTestId("chat-system-prompt") as HTMLTextAreaElement).value).toBe(
      "Explain step by step.",
    );
    await fireEvent.input(screen.getByTestId("chat-temperature"), { target: { value: "0.4" } });
    await fireEvent.click(screen.getByTestId("chat-settings-save"));
    await waitFor(() => expect(chat.pendingSettings?.options.temperature).toBe(0.4));
    expect(chat.pendingSettings?.systemPrompt).toBe("Explain step by step.");
    expect(chat.pendingSettings?.options.topP).toBeNull();

    ipc.chatSend.mockResolvedValue(undefined);
    ipc.conversationGet.mockResolvedValue({});
    chat.draft = "Teach me fractions";
    await chat.send();
    expect(ipc.chatSend.mock.calls[0][0].settings).toMatchObject({
      systemPrompt: "Explain step by step.",
      options: { temperature: 0.4 },
    });
  });

  it("an open conversation's settings are saved, or the reason shown", async () => {
    const chat = newChatState();
    chat.currentId = 5;
    chat.settings = { ...defaults, systemPrompt: "Your own words" };
    render(ChatSettingsDialog, { chat, defaults, onClose: () => {} });
    const prompt = (await screen.findByTestId("chat-system-prompt")) as HTMLTextAreaElement;
    expect(prompt.value).toBe("Your own words");
    ipc.conversationSettingsSet.mockRejectedValueOnce({
      code: "invalid_input",
      message: "Temperature goes from 0 (focused) to 2 (most varied).",
    });
    await fireEvent.input(screen.getByTestId("chat-temperature"), { target: { value: "3" } });
    await fireEvent.click(screen.getByTestId("chat-settings-save"));
    expect((await screen.findByRole("alert")).textContent).toContain("Temperature goes from 0");

    ipc.conversationSettingsSet.mockResolvedValueOnce({
      settings: { ...defaults, options: { ...defaults.options, temperature: 1 } },
    });
    await fireEvent.input(screen.getByTestId("chat-temperature"), { target: { value: "1" } });
    await fireEvent.click(screen.getByTestId("chat-settings-save"));
    await waitFor(() => expect(chat.settings?.options.temperature).toBe(1));
    expect(ipc.conversationSettingsSet.mock.calls[1][0]).toBe(5);
  });
});

describe("Personas", () => {
  it("adds one, and says why a name is refused", async () => {
    render(Personas, {});
    expect(await screen.findAllByTestId("persona-item")).toHaveLength(2);
    await fireEvent.click(screen.getByTestId("persona-add"));
    await fireEvent.input(screen.getByTestId("persona-name-input"), {
      target: { value: "Concise" },
    });
    await fireEvent.input(screen.getByTestId("persona-prompt-input"), {
      target: { value: "Short." },
    });
    ipc.personaSave.mockRejectedValueOnce({
      code: "invalid_input",
      message: "A persona named “Concise” already exists.",
    });
    await fireEvent.click(screen.getByTestId("persona-save"));
    expect((await screen.findByRole("alert")).textContent).toContain("already exists");

    ipc.personaSave.mockResolvedValueOnce([
      ...personas,
      { id: 3, name: "Brief", prompt: "Short." },
    ]);
    await fireEvent.input(screen.getByTestId("persona-name-input"), { target: { value: "Brief" } });
    await fireEvent.click(screen.getByTestId("persona-save"));
    await waitFor(() => expect(screen.getAllByTestId("persona-item")).toHaveLength(3));
    expect(ipc.personaSave).toHaveBeenLastCalledWith({
      id: undefined,
      name: "Brief",
      prompt: "Short.",
    });
    expect(screen.queryByTestId("persona-name-input")).toBeNull();
  });
});
