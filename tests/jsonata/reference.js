// Reads one JSON request per line {"expr", "input", "bindings"} and answers one JSON line per
// request with the reference JSONata implementation: {"value"}, {"undefined": true} or
// {"error": {"code", "message"}}. Started once per test session and fed many expressions.
"use strict";
const path = require("path");
const readline = require("readline");
const jsonata = require(path.resolve(process.argv[2], "node_modules", "jsonata"));

const rl = readline.createInterface({ input: process.stdin, terminal: false });
let queue = Promise.resolve();

rl.on("line", (line) => {
  queue = queue.then(async () => {
    let answer;
    try {
      const request = JSON.parse(line);
      const expression = jsonata(request.expr);
      const input = "input" in request ? request.input : undefined;
      const value = await expression.evaluate(input, request.bindings || {});
      if (value === undefined) {
        answer = { undefined: true };
      } else {
        const text = JSON.stringify(value);
        answer = text === undefined ? { undefined: true } : { value: JSON.parse(text) };
      }
    } catch (err) {
      answer = { error: { code: String(err.code || ""), message: String(err.message || err) } };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  });
});
