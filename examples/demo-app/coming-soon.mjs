// Placeholder until the demo app lands: `npm start` explains instead of failing.
console.log('The stablehand demo app is coming soon: it will serve the Stable Routines page at http://localhost:3000/tasks/.');
console.log('Meanwhile, `npm test` runs the suite against a real SQLite file.');
