// The sidebar's date groups: Today, Yesterday, Previous 7 days, then one per month.
import type { ConversationSummary } from "../../lib/ipc";

export interface ConversationGroup {
  label: string;
  items: ConversationSummary[];
}

function startOfDay(time: Date): number {
  return new Date(time.getFullYear(), time.getMonth(), time.getDate()).getTime();
}

/** Groups conversations (most recent first) by their last activity in local time. */
export function groupByDay(
  conversations: ConversationSummary[],
  now: Date,
  locale?: string,
): ConversationGroup[] {
  const today = startOfDay(now);
  // The day before today's midnight, by the calendar (a DST day is not 24 h long).
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1).getTime();
  const weekAgo = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 7).getTime();
  // Made only when a conversation is older than a week: making one costs tens of ms the
  // first time (the locale's data), which a window opening on recent chats need not pay.
  let month: Intl.DateTimeFormat | undefined;
  const groups: ConversationGroup[] = [];
  for (const conversation of conversations) {
    const at = conversation.updatedAt;
    const label =
      at >= today
        ? "Today"
        : at >= yesterday
          ? "Yesterday"
          : at >= weekAgo
            ? "Previous 7 days"
            : (month ??= new Intl.DateTimeFormat(locale, {
                month: "long",
                year: "numeric",
              })).format(new Date(at));
    const last = groups.at(-1);
    if (last?.label === label) last.items.push(conversation);
    else groups.push({ label, items: [conversation] });
  }
  return groups;
}
