/**
 * Column helpers every table file shares: JSON kept in TEXT, money, 40-character primary keys and
 * millisecond timestamps. Money columns are BIGINT read as JS numbers; the code asserts that every
 * amount is a safe integer before it is written.
 */
import { BigIntType, Type } from '@mikro-orm/core';

/**
 * JSON kept in a TEXT column and (de)serialized here: MariaDB's JSON is LONGTEXT and reaches the
 * MySQL driver as a string, so the ORM's own json type would hand back strings there.
 */
export class JsonText extends Type<unknown, string | null> {
  override convertToDatabaseValue(value: unknown): string | null {
    return value === null || value === undefined ? null : JSON.stringify(value);
  }
  override convertToJSValue(value: string | null): unknown {
    return value === null || value === undefined ? null : typeof value === 'string' ? JSON.parse(value) : value;
  }
  override getColumnType(): string {
    return 'text';
  }
}

export const money = () => ({ type: new BigIntType('number'), default: 0 });
export const id = () => ({ type: 'string', length: 40, primary: true }) as const;
export const at = () => ({ type: 'datetime', length: 3 }) as const;
