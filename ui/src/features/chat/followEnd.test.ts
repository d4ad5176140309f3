import { describe, expect, it } from "vitest";
import { FollowEnd } from "./followEnd.svelte";

/** A list 2,000 px tall in a 500 px window, at its end, and a clock the test moves. */
function setup() {
  const scroller = { scrollTop: 1_500, scrollHeight: 2_000, clientHeight: 500 };
  let now = 1_000;
  const end = new FollowEnd(
    () => scroller,
    () => now,
  );
  return {
    end,
    scroller,
    later: (ms: number) => (now += ms),
    scrollTo: (top: number) => {
      scroller.scrollTop = top;
      end.onScroll();
    },
  };
}

const wheel = (deltaY: number, ctrlKey = false) => ({ deltaY, ctrlKey }) as WheelEvent;
const key = (key: string, target: object = { closest: () => null }, shiftKey = false) =>
  ({ key, target, shiftKey }) as unknown as KeyboardEvent;
const touch = (clientY: number) => ({ touches: [{ clientY }] }) as unknown as TouchEvent;

describe("following the end of the conversation", () => {
  it("the list's own scrolling never stops it, however far from the end", () => {
    const { end, scrollTo } = setup();
    scrollTo(200);
    scrollTo(1_200);
    expect(end.following).toBe(true);
  });

  it("a wheel up stops it at once, before any scroll event", () => {
    const { end, scrollTo } = setup();
    end.onWheel(wheel(-100));
    expect(end.following).toBe(false);
    // Back at the end by the wheel: following again.
    end.onWheel(wheel(100));
    scrollTo(1_490);
    expect(end.following).toBe(true);
  });

  it("a wheel up with nothing above (at the top) changes nothing", () => {
    const { end, scroller } = setup();
    scroller.scrollTop = 0;
    end.onWheel(wheel(-100));
    expect(end.following).toBe(true);
  });

  it("Ctrl+wheel zooms: it does not stop it", () => {
    const { end } = setup();
    end.onWheel(wheel(-100, true));
    expect(end.following).toBe(true);
  });

  it("the scrollbar dragged up stops it; after the drag, the list's scrolling does not", () => {
    const { end, scroller, scrollTo } = setup();
    end.onPointerdown({ target: scroller } as unknown as PointerEvent);
    scrollTo(900);
    expect(end.following).toBe(false);
    end.onPointerup();
    end.toEnd();
    scrollTo(900);
    expect(end.following).toBe(true);
  });

  it("a click inside a message is not a drag", () => {
    const { end, scrollTo } = setup();
    end.onPointerdown({ target: {} } as unknown as PointerEvent);
    scrollTo(900);
    expect(end.following).toBe(true);
  });

  it.each([
    ["PageUp", false, false],
    ["ArrowUp", false, false],
    ["Home", false, false],
    [" ", true, false],
    ["PageDown", false, true],
    [" ", false, true],
  ])("the key %j (Shift: %s) leaves it following: %s", (name, shift, stays) => {
    const { end } = setup();
    end.onKeydown(key(name, { closest: () => null }, shift));
    expect(end.following).toBe(stays);
  });

  it("keys typed while editing a message do not count", () => {
    const { end } = setup();
    end.onKeydown(key("PageUp", { closest: () => ({}) }));
    expect(end.following).toBe(true);
  });

  it("a scroll soon after the reader's keys or finger is theirs; later ones are not", () => {
    const { end, scrollTo, later } = setup();
    end.onKeydown(key("PageDown"));
    scrollTo(800);
    expect(end.following).toBe(false);
    end.toEnd();
    later(1_000);
    scrollTo(800);
    expect(end.following).toBe(true);
  });

  it("a finger moving down scrolls up and stops it; moving up does not", () => {
    const { end } = setup();
    end.onTouchstart(touch(300));
    end.onTouchmove(touch(250));
    expect(end.following).toBe(true);
    end.onTouchmove(touch(320));
    expect(end.following).toBe(false);
  });

  it("leave() and toEnd() are the search result and Jump to latest", () => {
    const { end } = setup();
    end.leave();
    expect(end.following).toBe(false);
    end.toEnd();
    expect(end.following).toBe(true);
  });
});
