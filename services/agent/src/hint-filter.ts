// Which hints ask the agent for a pass. Every gateway publishes the hints of every change it
// sees (each from its own watch), so with several gateways an agent hears each change once per
// gateway. A pass reads the registry at the newest revision the agent has heard of: a hint whose
// revision a pass already started from is news to nobody. A pass that failed covers nothing.
export class HintFilter {
  private covered = 0;

  /** A pass starts, reading the registry at `revision` or later. */
  passStarting(revision: number): void {
    this.covered = Math.max(this.covered, revision);
  }

  /** The pass failed: the hints it covered ask for a pass again. */
  passFailed(): void {
    this.covered = 0;
  }

  /** Whether a hint of `revision` asks for a pass (one without a revision always does). */
  wanted(revision: number): boolean {
    return revision <= 0 || revision > this.covered;
  }
}

/** `pass`, telling `filter` when it starts (at `revision()`) and when it fails. */
export function passCoveringHints(filter: HintFilter, revision: () => number, pass: (trigger: string) => Promise<void>): (trigger: string) => Promise<void> {
  return async (trigger) => {
    filter.passStarting(revision());
    try {
      await pass(trigger);
    } catch (err) {
      filter.passFailed();
      throw err;
    }
  };
}
