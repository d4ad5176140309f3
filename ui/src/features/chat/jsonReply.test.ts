import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import Message from "./Message.svelte";
import { message } from "./testing";

describe("a reply asked for in JSON", () => {
  it("is shown folded by level, with what its check found and a Copy button", async () => {
    const writeText = vi.fn(async () => undefined);
    Object.assign(navigator, { clipboard: { writeText } });
    render(Message, {
      message: message(2, "assistant", '{"city":"Oslo","sights":[{"name":"Opera"}]}', {
        jsonCheck: { isJson: true, matchesSchema: true, problems: [] },
      }),
    });
    const check = screen.getByTestId("json-check");
    expect(check.textContent).toBe("Matches the schema");
    expect(check.dataset.valid).toBe("true");
    const nodes = screen.getAllByTestId("json-node") as HTMLDetailsElement[];
    // The object, its array, and the array's object: the first two levels open.
    expect(nodes.map((n) => n.open)).toEqual([true, true, false]);
    expect(nodes[0].textContent).toContain("city");
    expect(nodes[0].textContent).toContain('"Oslo"');
    expect(screen.queryByText('{"city":"Oslo"', { exact: false })).toBeNull();
    await fireEvent.click(screen.getByTestId("json-copy"));
    expect(writeText).toHaveBeenCalledWith(
      JSON.stringify({ city: "Oslo", sights: [{ name: "Opera" }] }, null, 2),
    );
  });

  it("says where a reply does not match, and shows a reply that is not JSON as it came", () => {
    render(Message, {
      message: message(2, "assistant", "Sure! {", {
        jsonCheck: {
          isJson: false,
          matchesSchema: false,
          problems: ["The reply is not valid JSON (line 1, column 1)."],
        },
      }),
    });
    const reply = screen.getByTestId("json-reply");
    expect(within(reply).getByTestId("json-check").dataset.valid).toBe("false");
    expect(within(reply).getByTestId("json-check").textContent).toBe("Not valid JSON");
    expect(within(reply).getByTestId("json-problems").textContent).toContain("line 1");
    expect(reply.textContent).toContain("Sure! {");
  });

  it("a text reply is Markdown as ever", () => {
    render(Message, { message: message(2, "assistant", "**Hi**") });
    expect(screen.queryByTestId("json-reply")).toBeNull();
    expect(screen.getByTestId("message-content").innerHTML).toContain("<strong>Hi</strong>");
  });

  it("a hostile reply, very deep or very wide, is bounded on screen", () => {
    const deep = "[".repeat(60) + "1" + "]".repeat(60);
    const wide = JSON.stringify(
      Object.fromEntries([...Array(800).keys()].map((i) => [`k${i}`, i])),
    );
    const check = { isJson: true, matchesSchema: null, problems: [] };
    const { unmount } = render(Message, {
      message: message(2, "assistant", deep, { jsonCheck: check }),
    });
    expect(screen.getAllByTestId("json-node").length).toBe(32);
    unmount();
    render(Message, { message: message(2, "assistant", wide, { jsonCheck: check }) });
    expect(screen.getByTestId("json-reply").textContent).toContain("… and 300 more");
  });
});
