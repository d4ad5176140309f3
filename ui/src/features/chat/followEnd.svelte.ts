// Whether the message list follows the end of the conversation (a reply as it streams), and
// when it stops: only when the reader scrolls up. The list's own scrolling (rows measured
// late, a reply growing, the view following) never stops it, or a busy machine would leave
// the reader behind a reply that goes on writing.

/** Closer than this to the end is at the end. */
const AT_END_PX = 48;
/** A scroll this soon after the reader's wheel, keys or finger is theirs. */
const READER_SCROLL_MS = 400;
const UPWARD_KEYS = new Set(["ArrowUp", "PageUp", "Home"]);
const SCROLL_KEYS = new Set([...UPWARD_KEYS, "ArrowDown", "PageDown", "End", " "]);

/** What is read of the scrolling element. */
type Scroller = Pick<HTMLElement, "scrollTop" | "scrollHeight" | "clientHeight">;

export class FollowEnd {
  /** The view follows the end of the conversation. */
  following = $state(true);
  #readerUntil = 0;
  #dragging = false;
  #touchY = 0;

  constructor(
    private readonly scroller: () => Scroller | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The reader went back to the end ("Jump to latest", a new reply, another conversation). */
  toEnd() {
    this.following = true;
  }

  /** The reader stopped following the end (opened at a message found by search). */
  leave() {
    this.following = false;
  }

  onScroll() {
    const scroller = this.scroller();
    if (!scroller) return;
    const gap = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    if (gap < AT_END_PX) this.following = true;
    else if (this.#dragging || this.now() < this.#readerUntil) this.following = false;
  }

  onWheel(event: WheelEvent) {
    // Ctrl+wheel zooms the page; it does not scroll the list.
    if (!event.ctrlKey) this.#readerScrolls(event.deltaY < 0);
  }

  onKeydown(event: KeyboardEvent) {
    if (!SCROLL_KEYS.has(event.key)) return;
    // Keys typed into a field inside a message (editing it) do not scroll the list.
    if ((event.target as HTMLElement | null)?.closest?.("textarea, input")) return;
    this.#readerScrolls(UPWARD_KEYS.has(event.key) || (event.key === " " && event.shiftKey));
  }

  onTouchstart(event: TouchEvent) {
    this.#touchY = event.touches[0]?.clientY ?? 0;
  }

  onTouchmove(event: TouchEvent) {
    const y = event.touches[0]?.clientY ?? this.#touchY;
    // A finger moving down scrolls the list up.
    this.#readerScrolls(y > this.#touchY);
    this.#touchY = y;
  }

  /** The scrollbar is dragged with the pointer held down on the list itself. */
  onPointerdown(event: PointerEvent) {
    if ((event.target as unknown) === this.scroller()) this.#dragging = true;
  }

  onPointerup() {
    this.#dragging = false;
  }

  #readerScrolls(upward: boolean) {
    this.#readerUntil = this.now() + READER_SCROLL_MS;
    // Decided now, not at the scroll event: a reply growing meanwhile must not pull back.
    const scroller = this.scroller();
    if (upward && scroller && scroller.scrollTop > 0) this.following = false;
  }
}
