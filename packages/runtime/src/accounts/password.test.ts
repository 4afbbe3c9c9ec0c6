import { expect } from 'chai';
import { hashPassword, verifyPassword } from './password.js';

describe('password hashing (scrypt)', () => {
  it('verifies the right password only, with a fresh salt per hash and its parameters stored', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).to.match(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(a).not.to.equal(b);
    expect(await verifyPassword('correct horse battery', a)).to.equal(true);
    expect(await verifyPassword('correct horse batterz', a)).to.equal(false);
    expect(await verifyPassword('', a)).to.equal(false);
  });

  it('treats a malformed stored hash as a mismatch', async () => {
    for (const bad of ['', 'plain', 'bcrypt$x$y', 'scrypt$16384$8$1$$'])
      expect(await verifyPassword('x', bad)).to.equal(false);
  });
});
