// One transaction on a connection of its own: committed when `work` resolves, rolled back when it throws.
import type mysql from 'mysql2/promise';

export async function inTransaction<T>(pool: mysql.Pool, work: (connection: mysql.PoolConnection) => Promise<T>): Promise<T> {
  const connection = await pool.getConnection();
  try {
    await connection.beginTransaction();
    const result = await work(connection);
    await connection.commit();
    return result;
  } catch (error) {
    await connection.rollback().catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}
