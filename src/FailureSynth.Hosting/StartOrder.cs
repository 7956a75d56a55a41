namespace FailureSynth.Hosting;

/// <summary>
/// Orders resources so that each starts after what it needs: the resources it waits for and the
/// servers whose connection strings it gets. References to HTTP resources do not order anything
/// (their addresses are chosen before any start), so two services may call each other.
/// </summary>
internal static class StartOrder
{
    public static IEnumerable<IResource> Dependencies(IResourceBuilder<IResource> builder) =>
        builder.Settings.WaitsFor.Concat(builder.Settings.References.Where(r => r is IServerResource)).Distinct();

    /// <summary>A stable topological order (ties keep the order of addition); a cycle is an error that names it.</summary>
    public static IReadOnlyList<IResourceBuilder<IResource>> Sort(IReadOnlyList<IResourceBuilder<IResource>> resources)
    {
        var byResource = new Dictionary<IResource, IResourceBuilder<IResource>>(ReferenceEqualityComparer.Instance);
        foreach (IResourceBuilder<IResource> builder in resources) byResource[builder.Resource] = builder;
        var order = new List<IResourceBuilder<IResource>>();
        var state = new Dictionary<object, bool>(ReferenceEqualityComparer.Instance); // false: on the path, true: placed
        var path = new List<IResource>();

        void Visit(IResourceBuilder<IResource> builder)
        {
            if (state.TryGetValue(builder.Resource, out bool placed))
            {
                if (placed) return;
                int start = path.IndexOf(builder.Resource);
                string cycle = string.Join(" -> ", path.Skip(start).Append(builder.Resource).Select(r => r.Name));
                throw new DistributedApplicationException(
                    $"The resources depend on each other in a cycle: {cycle}. Each arrow is a WaitFor or a reference to a server; remove one of them.");
            }
            state[builder.Resource] = false;
            path.Add(builder.Resource);
            foreach (IResource dependency in Dependencies(builder)) Visit(byResource[dependency]);
            path.RemoveAt(path.Count - 1);
            state[builder.Resource] = true;
            order.Add(builder);
        }

        foreach (IResourceBuilder<IResource> builder in resources) Visit(builder);
        return order;
    }
}
