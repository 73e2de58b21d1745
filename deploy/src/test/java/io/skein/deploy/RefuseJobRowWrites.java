package io.skein.deploy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import org.h2.api.Trigger;

/**
 * An H2 trigger on {@code skein_jobs} that refuses the next {@link #refusals} updates setting a
 * job's state to {@link #state}: a real database failing real writes, for the tests that show the
 * job row comes back in step with the journal.
 */
public final class RefuseJobRowWrites implements Trigger {

  static final AtomicInteger refusals = new AtomicInteger();
  static volatile String state = "paused";
  private int stateColumn = -1;

  @Override
  public void init(Connection conn, String schema, String trigger, String table, boolean before, int type) throws SQLException {
    try (ResultSet columns = conn.getMetaData().getColumns(null, schema, table, null)) {
      while (columns.next()) {
        if (columns.getString("COLUMN_NAME").equalsIgnoreCase("state")) {
          stateColumn = columns.getInt("ORDINAL_POSITION") - 1;
        }
      }
    }
  }

  @Override
  public void fire(Connection conn, Object[] oldRow, Object[] newRow) throws SQLException {
    if (newRow != null && stateColumn >= 0 && state.equals(newRow[stateColumn]) && refusals.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new SQLException("injected: the database refused this write of the job row");
    }
  }
}
