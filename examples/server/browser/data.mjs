// The updates of the browser example, computed the same way in the page and in Node (the test
// compares the two results bit for bit): n clients of length d, the first `attackers` flipped.
export function exampleUpdates(n, d, attackers) {
  return Array.from({ length: n }, (_, i) => {
    const x = new Float32Array(d);
    for (let j = 0; j < d; j++) {
      const honest = Math.fround(Math.sin(j * 0.01) + 0.05 * Math.sin(i * 12.9898 + j * 78.233));
      x[j] = i < attackers ? -10 * honest : honest;
    }
    return x;
  });
}
