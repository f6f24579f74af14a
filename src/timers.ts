/** What Node's timers hold, one constant for every wait a user sets (hub timeouts, a queue worker's lock). */

/** The longest delay a Node timer holds (2^31 − 1 ms, about 24.8 days): one given more fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
