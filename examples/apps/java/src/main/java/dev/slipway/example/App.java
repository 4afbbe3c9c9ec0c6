package dev.slipway.example;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * Slipway's Java example: the JDK's HTTP server on $PORT. `/` and `/health` always answer;
 * `/db`, `/redis` and `/mail` reach the add-ons lazily and answer 503 when not configured.
 */
public final class App {
  private App() {}

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "5000"));
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.createContext("/", App::handle);
    server.start();
    System.out.println("listening on port " + port);
  }

  private static void handle(HttpExchange ex) throws IOException {
    int status = 200;
    String body;
    try {
      switch (ex.getRequestURI().getPath()) {
        case "/" -> body = "{\"app\":\"slipway-example-java\",\"dyno\":\""
            + System.getenv().getOrDefault("DYNO", "local") + "\",\"addons\":{"
            + "\"DATABASE_URL\":" + Addons.configured("DATABASE_URL") + ","
            + "\"REDIS_URL\":" + Addons.configured("REDIS_URL") + ","
            + "\"SMTP_URL\":" + Addons.configured("SMTP_URL") + "}}";
        case "/health" -> body = "{\"ok\":true}";
        case "/db" -> body = Addons.database();
        case "/redis" -> body = Addons.redis();
        case "/mail" -> body = Addons.mail();
        default -> {
          status = 404;
          body = "{\"ok\":false,\"error\":\"not found\"}";
        }
      }
    } catch (Addons.NotConfigured e) {
      status = 503;
      body = "{\"ok\":false,\"error\":\"" + e.getMessage() + " is not configured\"}";
    } catch (Exception e) {
      status = 500;
      body = "{\"ok\":false,\"error\":\"" + String.valueOf(e.getMessage()).replace("\"", "'") + "\"}";
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }
}
