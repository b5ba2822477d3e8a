/**
 * Operator commands' shapes (pure): what the Update validators refuse before looking at the state,
 * and how a returnDecision's decision reaches its audit row.
 */
import assert from 'node:assert/strict';
import { auditDetail, commandProblem, decisionProblem, OPERATOR_REASON_MAX } from '../../core/operator';

describe('operator commands', () => {
  it('a returnDecision needs the common fields and a decision of accept or dishonor', () => {
    assert.equal(decisionProblem({ decision: 'accept', reason: 'proved closed', operator: 'alice' }), undefined);
    assert.equal(decisionProblem({ decision: 'dishonor', reason: 'untimely', operator: 'alice' }), undefined);
    assert.equal(decisionProblem({ decision: 'refund', reason: 'x', operator: 'alice' }), 'decision must be one of "accept", "dishonor"');
    assert.equal(decisionProblem({ reason: 'x', operator: 'alice' }), 'decision must be one of "accept", "dishonor"');
    assert.equal(decisionProblem({ decision: 'ACCEPT', reason: 'x', operator: 'alice' }), 'decision must be one of "accept", "dishonor"');
    assert.equal(decisionProblem({ decision: 'accept', reason: ' ', operator: 'alice' }), 'reason is required: why the action is taken');
    assert.equal(decisionProblem({ decision: 'accept', reason: 'x'.repeat(OPERATOR_REASON_MAX + 1), operator: 'alice' }), `reason must be at most ${OPERATOR_REASON_MAX} characters`);
    assert.equal(decisionProblem({ decision: 'accept', reason: 'x' }), 'operator is required: who is acting');
    assert.equal(decisionProblem(null), 'the command must be an object {reason, operator}');
    assert.equal(decisionProblem('accept'), 'the command must be an object {reason, operator}');
  });

  it('retry and cancel do not ask for a decision', () => {
    assert.equal(commandProblem({ reason: 'bank back', operator: 'alice' }), undefined);
  });

  it("a returnDecision's audit detail names the decision first; other actions' details are kept as they are", () => {
    assert.equal(auditDetail('returnDecision', { decision: 'dishonor' }, 'accepted while needs_attention'), 'decision dishonor: accepted while needs_attention');
    assert.equal(auditDetail('returnDecision', {}, 'decision must be one of'), 'decision missing: decision must be one of');
    assert.equal(auditDetail('returnDecision', null, 'x'), 'decision missing: x');
    assert.equal(auditDetail('returnDecision', { decision: 'y'.repeat(50) }, 'x'), `decision ${'y'.repeat(20)}: x`);
    assert.equal(auditDetail('retry', { decision: 'accept' }, 'accepted while needs_attention'), 'accepted while needs_attention');
  });
});
