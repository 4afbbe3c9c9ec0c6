package dev.slipway.example;

import jakarta.mail.Authenticator;
import jakarta.mail.Message;
import jakarta.mail.PasswordAuthentication;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;
import redis.clients.jedis.Jedis;

/** Lazy clients for the add-on config vars; nothing connects until a route asks. */
final class Addons {
  private Addons() {}

  /** Thrown when the config var a route needs is absent. */
  static final class NotConfigured extends Exception {
    NotConfigured(String var) {
      super(var);
    }
  }

  static boolean configured(String var) {
    String v = System.getenv(var);
    return v != null && !v.isEmpty();
  }

  private static URI require(String var) throws NotConfigured {
    if (!configured(var)) throw new NotConfigured(var);
    return URI.create(System.getenv(var));
  }

  private static String decode(String s) {
    return s == null ? "" : URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** Heroku-style postgres://user:pass@host:port/db, turned into a JDBC connection. */
  static Connection connect() throws Exception {
    URI u = require("DATABASE_URL");
    String[] userInfo = u.getRawUserInfo() == null ? new String[] {"", ""} : u.getRawUserInfo().split(":", 2);
    Properties props = new Properties();
    props.setProperty("user", decode(userInfo[0]));
    props.setProperty("password", userInfo.length > 1 ? decode(userInfo[1]) : "");
    props.setProperty("connectTimeout", "5");
    String jdbc = "jdbc:postgresql://" + u.getHost() + ":" + (u.getPort() > 0 ? u.getPort() : 5432) + u.getPath()
        + (u.getRawQuery() != null ? "?" + u.getRawQuery() : "");
    return DriverManager.getConnection(jdbc, props);
  }

  static String database() throws Exception {
    try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select version()")) {
      rs.next();
      return "{\"ok\":true,\"version\":\"" + rs.getString(1).replace("\"", "'") + "\"}";
    }
  }

  static String redis() throws Exception {
    URI u = require("REDIS_URL");
    try (Jedis jedis = new Jedis(u, 5000)) {
      long hits = jedis.incr("slipway-example-java:hits");
      return "{\"ok\":true,\"hits\":" + hits + "}";
    }
  }

  static String mail() throws Exception {
    URI u = require("SMTP_URL");
    boolean ssl = "smtps".equals(u.getScheme());
    Properties props = new Properties();
    props.put("mail.smtp.host", u.getHost());
    props.put("mail.smtp.port", String.valueOf(u.getPort() > 0 ? u.getPort() : (ssl ? 465 : 25)));
    props.put("mail.smtp.connectiontimeout", "10000");
    props.put("mail.smtp.timeout", "10000");
    if (ssl) props.put("mail.smtp.ssl.enable", "true");
    String[] userInfo = u.getRawUserInfo() == null ? null : u.getRawUserInfo().split(":", 2);
    Authenticator auth = null;
    if (userInfo != null) {
      props.put("mail.smtp.auth", "true");
      String user = decode(userInfo[0]);
      String pass = userInfo.length > 1 ? decode(userInfo[1]) : "";
      auth = new Authenticator() {
        @Override
        protected PasswordAuthentication getPasswordAuthentication() {
          return new PasswordAuthentication(user, pass);
        }
      };
    }
    Session session = Session.getInstance(props, auth);
    MimeMessage msg = new MimeMessage(session);
    msg.setFrom(new InternetAddress("example@slipway.local"));
    msg.setRecipient(Message.RecipientType.TO, new InternetAddress("someone@slipway.local"));
    msg.setSubject("Hello from the Slipway Java example");
    msg.setText("Sent by the Java example app.");
    Transport.send(msg);
    return "{\"ok\":true,\"sent\":\"" + msg.getSubject() + "\"}";
  }
}
