import assert from 'node:assert/strict';
import { mariadbOrm } from '../support/global';
import { sqliteOrm } from '../support/sqlite';

describe('migrations', () => {
  it('bring MariaDB exactly to the schema the entities describe', async () => {
    const orm = await mariadbOrm();
    assert.deepEqual(await orm.getMigrator().getPendingMigrations(), []);
    // The MySQL schema differ reports MariaDB's nullable columns as changed when they are not, so the
    // check reads the catalogue instead: every entity column exists with its nullability, and no other.
    const conn = orm.em.getConnection();
    for (const meta of Object.values(orm.getMetadata().getAll())) {
      const rows: { name: string; nullable: string }[] = await conn.execute(
        'select column_name as name, is_nullable as nullable from information_schema.columns where table_schema = database() and table_name = ?',
        [meta.tableName],
      );
      const actual = Object.fromEntries(rows.map((r) => [r.name, r.nullable === 'YES']));
      const expected = Object.fromEntries(meta.props.flatMap((p) => p.fieldNames.map((f) => [f, !!p.nullable])));
      assert.deepEqual(actual, expected, `table ${meta.tableName}`);
    }
  });

  it('bring the embedded SQLite database exactly to the same schema', async () => {
    const db = await sqliteOrm();
    try {
      const diff = await db.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      assert.equal(diff.trim(), '', `entities and migrations disagree on SQLite:\n${diff}`);
      // The SQLite differ does not see a column's nullability change: read it from the catalogue.
      const conn = db.orm.em.getConnection();
      for (const meta of Object.values(db.orm.getMetadata().getAll())) {
        const rows: { name: string; notnull: number; pk: number }[] = await conn.execute(`pragma table_info(\`${meta.tableName}\`)`);
        const actual = Object.fromEntries(rows.map((r) => [r.name, r.notnull === 0 && r.pk === 0]));
        const expected = Object.fromEntries(meta.props.flatMap((p) => p.fieldNames.map((f) => [f, !!p.nullable])));
        assert.deepEqual(actual, expected, `table ${meta.tableName}`);
      }
    } finally {
      await db.close();
    }
  });
});
