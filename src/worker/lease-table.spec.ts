import { LeaseTable } from './lease-table';
import { leased } from './testing/fakes';

describe('LeaseTable', () => {
  it('holds two attempts of one id side by side and releases each on its own', async () => {
    const table = new LeaseTable();
    const first = table.add(leased('x', 1));
    const second = table.add(leased('x', 2));
    expect(table.size).toBe(2);
    expect(table.withId('x')).toEqual([first, second]);
    expect(table.get({ id: 'x', token: 2 })).toBe(second);

    table.release({ id: 'x', token: 1 });
    expect(table.get({ id: 'x', token: 1 })).toBeUndefined();
    expect(table.withId('x')).toEqual([second]);
    expect(table.leases()).toEqual([{ id: 'x', token: 2 }]);

    // Releasing an attempt that is not held (again, or a token never held) changes nothing.
    table.release({ id: 'x', token: 1 });
    table.release({ id: 'x', token: 3 });
    expect(table.size).toBe(1);

    const empty = table.whenEmpty();
    let resolved = false;
    void empty.then(() => (resolved = true));
    await Promise.resolve();
    expect(resolved).toBe(false);
    table.release({ id: 'x', token: 2 });
    await empty;
    expect(table.withId('x')).toEqual([]);
  });

  it('whenEmpty resolves at once when nothing is held', async () => {
    await expect(new LeaseTable().whenEmpty()).resolves.toBeUndefined();
  });
});
