import { expect } from 'chai';
import { LogBudget } from './log-budget.js';

describe('LogBudget', () => {
  it('admits a burst, then the refill rate, and reports the drops as L10 at most once a second', () => {
    const budget = new LogBudget({ perSecond: 100, burst: 50 });
    const reports: string[] = [];
    const report = (m: string) => reports.push(m);
    let admitted = 0;
    const t0 = Date.parse('2026-12-05T10:00:00Z');
    for (let i = 0; i < 200; i++) if (budget.admit('web.1', 10, report, t0)) admitted++;
    expect(admitted).to.equal(25); // each short line costs 2 tokens (1 + one started kB)
    expect(reports).to.have.length(1);
    expect(reports[0]).to.equal(
      'Error L10 (output buffer overflow): 1 messages dropped since 2026-12-05T10:00:00+00:00',
    );
    // Half a second later: 50 new tokens, 25 lines; no report within the second.
    admitted = 0;
    for (let i = 0; i < 200; i++) if (budget.admit('web.1', 10, report, t0 + 500)) admitted++;
    expect(admitted).to.equal(25);
    expect(reports).to.have.length(1);
    budget.admit('web.1', 10, report, t0 + 1000);
    expect(reports[1]).to.match(/^Error L10 \(output buffer overflow\): 3\d\d messages dropped since /);
  });

  it("keeps dynos apart: one flooding dyno does not spend another one's budget", () => {
    const budget = new LogBudget({ perSecond: 10, burst: 10 });
    for (let i = 0; i < 1000; i++) budget.admit('flood.1', 10, () => {}, 0);
    expect(budget.admit('quiet.1', 10, () => {}, 0)).to.equal(true);
  });

  it('charges long lines by size and reports what is left when the dyno goes', () => {
    const budget = new LogBudget({ perSecond: 0, burst: 30 });
    const reports: string[] = [];
    expect(budget.admit('web.1', 10_000, (m) => reports.push(m), 0)).to.equal(true); // 11 tokens
    expect(budget.admit('web.1', 10_000, (m) => reports.push(m), 0)).to.equal(true);
    expect(budget.admit('web.1', 10_000, (m) => reports.push(m), 0)).to.equal(false);
    budget.admit('web.1', 10_000, (m) => reports.push(m), 10);
    expect(reports, 'not within a second of the last report').to.deep.equal([]);
    budget.forget('web.1', (m) => reports.push(m));
    expect(reports).to.deep.equal([
      'Error L10 (output buffer overflow): 2 messages dropped since 1970-01-01T00:00:00+00:00',
    ]);
  });
});
