namespace FailureSynth.Hosting;

/// <summary>Collects the resources of a distributed application, as Aspire's builder of the same name does.</summary>
public interface IDistributedApplicationBuilder
{
    DistributedApplicationOptions Options { get; }

    /// <summary>The resources added so far, in the order they were added.</summary>
    IReadOnlyList<IResourceBuilder<IResource>> Resources { get; }

    /// <summary>Adds a resource (the extension point for servers such as Redis and RabbitMQ).</summary>
    IResourceBuilder<T> AddResource<T>(T resource) where T : class, IResource;

    /// <summary>Checks the model (names, references, dependency cycles) and creates the application.</summary>
    DistributedApplication Build();
}

/// <summary>A resource being configured: the handle the <c>With...</c> methods chain on.</summary>
public interface IResourceBuilder<out T> where T : IResource
{
    T Resource { get; }

    IDistributedApplicationBuilder ApplicationBuilder { get; }

    ResourceSettings Settings { get; }
}
