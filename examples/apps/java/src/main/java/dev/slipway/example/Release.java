package dev.slipway.example;

import java.sql.Connection;
import java.sql.Statement;

/** The release phase: creates the schema when DATABASE_URL is set, else says so and succeeds. */
public final class Release {
  private Release() {}

  public static void main(String[] args) throws Exception {
    if (!Addons.configured("DATABASE_URL")) {
      System.out.println("release: DATABASE_URL not configured; nothing to migrate");
      return;
    }
    try (Connection c = Addons.connect(); Statement st = c.createStatement()) {
      st.execute("create table if not exists visits (id serial primary key, at timestamptz default now())");
    }
    System.out.println("release: schema up to date");
  }
}
