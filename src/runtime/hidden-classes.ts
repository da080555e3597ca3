/**
 * V8 optimises a hot function against the hidden classes ("maps") of the objects it has seen
 * and holds those maps weakly: once a full collection finds no live object of one, the map
 * dies and every function optimised against it is thrown away, to run unoptimised until it is
 * hot again. A literal's map is held by the literal itself. A map reached by adding properties
 * is held by nothing else: a class's fields, an object built by a spread, Node's Hmac and
 * Cipheriv. A decision makes such objects and drops them, so between requests none of them
 * may be alive, and every full collection threw the decision's hot path away.
 *
 * Hence two rules on the decision's paths: build objects as literals (two literals rather
 * than one with an optional spread), and keep one example of each class instance it makes
 * and drops here, for the life of the process, which keeps that class's map alive. Give the
 * example values of the kinds real ones hold (a fraction where a real field can hold one): a
 * field that later holds a wider kind moves every object of the class to a new map.
 * `npm run bench:in-process -- --deopts` lists what a full collection still throws away.
 */
const kept: unknown[] = [];

/** Keep `example` alive, and with it the hidden class every object built the same way shares. */
export function keepHiddenClass<T>(example: T): T {
  kept.push(example);
  return example;
}
