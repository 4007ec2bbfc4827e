// The function `make run` deploys. It answers an HTTP route (an API Gateway 2.0 event) and
// handles the CloudEvents a subscription delivers to it.
exports.handler = async (event, context) => {
  if (event.requestContext && event.requestContext.http) {
    const name = (event.pathParameters && event.pathParameters.name) || 'world';
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hello: name, request_id: context.awsRequestId }),
    };
  }
  console.log(`order ${event.id} (${event.type}): total ${event.data && event.data.total}`);
  return { handled: event.id };
};
