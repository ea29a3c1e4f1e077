/**
 * Tests that cannot run on this machine are pending with the reason in their title, so mocha's list
 * of pending tests says what was not checked and why (a skip from inside a hook or a test does not).
 */

/** `it` when `reason` is undefined; otherwise a pending test titled `<title> (pending: <reason>)`. */
export function itUnless(
  reason: string | undefined,
): (title: string, fn: Mocha.Func | Mocha.AsyncFunc) => void {
  return reason === undefined
    ? (title, fn) => void it(title, fn)
    : (title) => void it.skip(`${title} (pending: ${reason})`);
}
