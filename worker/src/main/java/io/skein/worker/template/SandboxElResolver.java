package io.skein.worker.template;

import com.hubspot.jinjava.el.TypeConvertingMapELResolver;
import com.hubspot.jinjava.el.ext.JinjavaBeanELResolver;
import com.hubspot.jinjava.el.ext.JinjavaListELResolver;
import java.beans.FeatureDescriptor;
import java.util.Iterator;
import jinjava.javax.el.ArrayELResolver;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * The only way templates reach objects: maps, lists and arrays are read; methods and bean
 * properties are reachable on Jinjava's own objects only (filters, tests, macros need them), never
 * on Java classes. {@code {{ name.getClass() }}} therefore resolves nothing and fails the render,
 * which closes the reflection paths behind CVE-2020-12668 and CVE-2025-59340.
 */
final class SandboxElResolver extends CompositeELResolver {

  SandboxElResolver() {
    add(new ArrayELResolver(true));
    add(new JinjavaListELResolver(true));
    add(new TypeConvertingMapELResolver(true));
    add(new JinjavaOnly(new JinjavaBeanELResolver(true)));
  }

  private static boolean allowed(Object base) {
    return base != null && base.getClass().getName().startsWith("com.hubspot.jinjava.") && !internal(base);
  }

  /**
   * The engine itself — the interpreter templates can name as {@code ____int3rpr3t3r____}, its
   * context and config: the way into CVE-2025-59340 (its object mapper). No property or method of it is reachable.
   */
  private static boolean internal(Object base) {
    String name = base.getClass().getName();
    return name.startsWith("com.hubspot.jinjava.interpret.") || name.equals("com.hubspot.jinjava.Jinjava")
        || name.equals("com.hubspot.jinjava.JinjavaConfig");
  }

  private static RuntimeException unreachable() {
    return new jinjava.javax.el.PropertyNotFoundException("the template engine's own objects are not reachable from templates");
  }

  /** Delegates to a bean resolver only for Jinjava's own library objects. */
  private static final class JinjavaOnly extends ELResolver {
    private final ELResolver delegate;

    JinjavaOnly(ELResolver delegate) {
      this.delegate = delegate;
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
      if (base != null && internal(base)) {
        throw unreachable();
      }
      return allowed(base) ? delegate.getValue(context, base, property) : null;
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
      if (base != null && internal(base)) {
        throw new jinjava.javax.el.MethodNotFoundException("the template engine's own objects are not reachable from templates"
            + " (called `" + method + "`)");
      }
      if (!allowed(base)) {
        String type = base == null ? "a value" : "a " + simpleType(base);
        throw new jinjava.javax.el.MethodNotFoundException(
            "method calls are not allowed in templates (called `" + method + "` on " + type + "); use filters such as | upper");
      }
      return delegate.invoke(context, base, method, paramTypes, params);
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
      return allowed(base) ? delegate.getType(context, base, property) : null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
      if (allowed(base)) {
        delegate.setValue(context, base, property, value);
      }
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
      return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
      return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
      return allowed(base) ? delegate.getCommonPropertyType(context, base) : null;
    }

    private static String simpleType(Object base) {
      if (base instanceof CharSequence) {
        return "string";
      }
      if (base instanceof Number) {
        return "number";
      }
      return "value";
    }
  }
}
