// The showcase's run length: the steps fitted to the time budget after timing the first steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitSteps, SHOWCASE } from '../src/cli/showcase.js';

test('fitSteps: the calibration steps plus what the time left allows, within [minSteps, maxSteps]', () => {
  const { calibrationSteps, minSteps, maxSteps } = SHOWCASE;
  // 210 s budget, 3 s spent on the calibration steps, 50 ms a step: 30 + ⌊207 / 0.05⌋ = 4170
  assert.equal(fitSteps(210, 3, 0.05), calibrationSteps + 4140);
  assert.equal(fitSteps(210, 3, 0.05), 4170);
  // a partial step does not count
  assert.equal(fitSteps(20.99, 1, 1), calibrationSteps + 19);
  // more budget, more steps; slower steps, fewer
  assert.ok(fitSteps(420, 3, 0.05) > fitSteps(210, 3, 0.05));
  assert.ok(fitSteps(210, 3, 0.1) < fitSteps(210, 3, 0.05));
  // the budget already spent (or nearly): the floor
  assert.equal(fitSteps(2, 3, 0.05), minSteps);
  assert.equal(fitSteps(3.2, 3, 0.05), minSteps);
  // very fast steps: the ceiling
  assert.equal(fitSteps(210, 0.1, 1e-6), maxSteps);
  assert.ok(minSteps > calibrationSteps && maxSteps > minSteps);
});
