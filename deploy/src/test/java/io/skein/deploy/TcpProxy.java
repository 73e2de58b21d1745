package io.skein.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Forwards TCP connections, so nodes in network namespaces reach a server listening on 127.0.0.1,
 * or so a test can cut a server off: {@link #cut} ends every connection and refuses new ones, as a
 * stopped database does, until {@link #restore}.
 */
final class TcpProxy implements AutoCloseable {

  private final ServerSocket server;
  private final java.util.Set<Socket> open = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile boolean cut;

  TcpProxy(String bindHost, String targetHost, int targetPort) throws IOException {
    server = new ServerSocket(0, 100, InetAddress.getByName(bindHost));
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket client = server.accept();
          if (cut) {
            close(client);
            continue;
          }
          Socket target = new Socket(targetHost, targetPort);
          open.add(client);
          open.add(target);
          pump(client.getInputStream(), target.getOutputStream(), client, target);
          pump(target.getInputStream(), client.getOutputStream(), client, target);
        } catch (IOException e) {
          // closed, or the target refused: the client sees its connection end
        }
      }
    }, "tcp-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Ends every connection through the proxy and refuses new ones. */
  void cut() {
    cut = true;
    open.forEach(TcpProxy::close);
    open.clear();
  }

  /** Takes connections again. */
  void restore() {
    cut = false;
  }

  private void pump(InputStream in, OutputStream out, Socket a, Socket b) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException ignored) {
        // one side closed
      } finally {
        close(a);
        close(b);
        open.remove(a);
        open.remove(b);
      }
    }, "tcp-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
