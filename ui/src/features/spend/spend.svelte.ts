// The spend meter's state: what the engine last said, kept current by its notices.
import { asIpcError, ipc, notices } from "../../lib/ipc";
import type { BudgetAlertView, BudgetInput, IpcError, SpendView } from "../../lib/ipc";

/**
 * A send the budget's hard stop held back, as the budget dialog needs it: its message,
 * and sending it again, past the stop or not (the chat's `ChatState` is one).
 */
export interface HeldSend {
  blocked: { message: string } | null;
  sendBlocked(overBudget: boolean): Promise<void>;
}

export class SpendState {
  view = $state<SpendView | null>(null);
  error = $state<IpcError | null>(null);

  /** The alert the banner shows: the highest threshold not yet dismissed. */
  alert = $derived<BudgetAlertView | null>(this.view?.alerts.at(-1) ?? null);

  async load() {
    try {
      this.view = await ipc.spendSummary();
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** Follows the engine's `spend_updated` notices; returns the unsubscribe function. */
  async follow(): Promise<() => void> {
    return notices.onSpendUpdated((spend) => (this.view = spend));
  }

  async setBudget(budget: BudgetInput): Promise<boolean> {
    try {
      this.view = await ipc.budgetSet(budget);
      this.error = null;
      return true;
    } catch (e) {
      this.error = asIpcError(e);
      return false;
    }
  }

  async clearBudget() {
    try {
      this.view = await ipc.budgetClear();
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  async dismiss() {
    try {
      this.view = await ipc.budgetAlertsDismiss();
    } catch (e) {
      this.error = asIpcError(e);
    }
  }
}
