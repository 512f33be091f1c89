// A thread module of the user's: plain JavaScript, loaded by URL in a worker thread.
import { threadName } from "@easynetwork/async-backend/worker";

export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export function whereAmI() {
  return threadName();
}
