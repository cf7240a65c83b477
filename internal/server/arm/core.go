package arm

import "net/http"

// The Microsoft.Resources actions the fixed routes require.
const (
	actionSubscriptionRead  = "Microsoft.Resources/subscriptions/read"
	actionLocationsRead     = "Microsoft.Resources/subscriptions/locations/read"
	actionGroupRead         = "Microsoft.Resources/subscriptions/resourceGroups/read"
	actionGroupWrite        = "Microsoft.Resources/subscriptions/resourceGroups/write"
	actionGroupDelete       = "Microsoft.Resources/subscriptions/resourceGroups/delete"
	actionResourcesRead     = "Microsoft.Resources/subscriptions/resources/read"
	actionGroupResourceRead = "Microsoft.Resources/subscriptions/resourceGroups/resources/read"
)

// coreRoutes is the fixed Microsoft.Resources route table.
func (h *handler) coreRoutes() []coreRoute {
	group := Methods{
		http.MethodGet:    {Action: actionGroupRead, Auth: CheckAction, Serve: h.getGroup},
		http.MethodHead:   {Action: actionGroupRead, Auth: CheckAction, Serve: h.headGroup},
		http.MethodPut:    {Action: actionGroupWrite, Auth: CheckAction, Serve: h.putGroup},
		http.MethodPatch:  {Action: actionGroupWrite, Auth: CheckAction, Serve: h.patchGroup},
		http.MethodDelete: {Action: actionGroupDelete, Auth: CheckAction, Serve: h.deleteGroup},
	}
	return []coreRoute{
		{pattern: []string{"tenants"}, methods: Methods{
			http.MethodGet: {Auth: Authenticated, Serve: h.listTenants}}},
		{pattern: []string{"subscriptions"}, methods: Methods{
			http.MethodGet: {Auth: Authenticated, Serve: h.listSubscriptions}}},
		{pattern: []string{"subscriptions", "{s}"}, methods: Methods{
			http.MethodGet: {Action: actionSubscriptionRead, Auth: Visible, Serve: h.getSubscription}}},
		{pattern: []string{"subscriptions", "{s}", "locations"}, methods: Methods{
			http.MethodGet: {Action: actionLocationsRead, Auth: Visible, Serve: h.listLocations}}},
		{pattern: []string{"subscriptions", "{s}", "resourceGroups"}, methods: Methods{
			http.MethodGet: {Action: actionGroupRead, Auth: FilterItems, Serve: h.listGroups}}},
		{pattern: []string{"subscriptions", "{s}", "resourceGroups", "{rg}"}, methods: group},
		{pattern: []string{"subscriptions", "{s}", "resources"}, methods: Methods{
			http.MethodGet: {Action: actionResourcesRead, Auth: FilterItems, Serve: h.listResources}}},
		{pattern: []string{"subscriptions", "{s}", "resourceGroups", "{rg}", "resources"}, methods: Methods{
			http.MethodGet: {Action: actionGroupResourceRead, Auth: FilterItems, Serve: h.listResources}}},
	}
}
